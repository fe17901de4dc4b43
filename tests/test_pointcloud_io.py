"""Point-cloud and mesh files: round trips through every format (ascii and binary),
hand-written fixtures, LZF, mesh sampling, and bad files."""

import os
from pathlib import Path

import numpy as np
import pytest

from manif_py import pointcloud as I
from manif_py.pointcloud import lzf
from manif_py.registration.synthetic.shapes import make_mesh, make_object

DATA = Path(__file__).parent / "data" / "pointclouds"


@pytest.fixture(scope="module")
def cloud():
    pc = make_object(4, "composite", 300)
    colors = np.random.default_rng(0).integers(0, 256, (300, 3)) / 255.0
    return pc.points, pc.normals, colors


@pytest.fixture(scope="module")
def mesh():
    return make_mesh(7, "revolved", resolution=12)


@pytest.mark.parametrize("binary, order", [(True, "<"), (True, ">"), (False, "<")])
def test_ply_round_trip(tmp_path, cloud, binary, order):
    P, N, C = cloud
    path = tmp_path / "c.ply"
    I.write_ply(path, P, N, C, binary=binary, byte_order=order)
    head = path.read_bytes()[:200]
    assert (b"binary_little_endian" in head) == (binary and order == "<")
    assert (b"binary_big_endian" in head) == (binary and order == ">")
    r = I.read_point_cloud(path)
    np.testing.assert_array_equal(r.points, P)
    np.testing.assert_array_equal(r.normals, N)
    np.testing.assert_allclose(r.colors, C, atol=1e-12)
    I.write_ply(path, P, dtype=np.float32)
    r = I.read_point_cloud(path)
    np.testing.assert_allclose(r.points, P, atol=1e-7)
    assert r.normals is None and r.colors is None


@pytest.mark.parametrize("mode", ["ascii", "binary", "binary_compressed"])
def test_pcd_round_trip(tmp_path, cloud, mode):
    P, N, C = cloud
    path = tmp_path / "c.pcd"
    I.write_pcd(path, P, N, C, data=mode)
    r = I.read_point_cloud(path)
    np.testing.assert_array_equal(r.points, P)
    np.testing.assert_array_equal(r.normals, N)
    np.testing.assert_allclose(r.colors, C, atol=1e-12)
    I.write_pcd(path, P, data=mode, dtype=np.float32)
    np.testing.assert_allclose(I.read_point_cloud(path).points, P, atol=1e-7)


def test_lzf_known_stream_and_repetitive_round_trip():
    # hand-assembled liblzf stream: literal 'a', then a back-reference of length 9 at
    # distance 1 (ctrl 0xE0: long form, extra length byte 0, offset byte 0)
    assert lzf.lzf_decompress(b"\x00a\xe0\x00\x00", 10) == b"a" * 10
    # literal 'abc' then a copy of 3 from distance 3 (ctrl (1 << 5) | 0, offset byte 2)
    assert lzf.lzf_decompress(b"\x02abc\x20\x02", 6) == b"abcabc"
    data = (b"\x00\x00\x80\x3f" * 500) + bytes(range(256)) + b"xyz" * 300
    comp = lzf.lzf_compress(data)
    assert len(comp) < len(data) // 4, "repeats become back-references"
    assert lzf.lzf_decompress(comp, len(data)) == data
    with pytest.raises(ValueError):
        lzf.lzf_decompress(comp[:-3], len(data))
    with pytest.raises(ValueError):
        lzf.lzf_decompress(b"\x00a\xe0\x00\x05", 10)  # reference before the start


def test_compressed_pcd_with_constant_fields(tmp_path):
    """A box's face normals repeat: the compressed file is small and decodes exactly."""
    pc = make_object(0, "extrusion", 2000)
    path = tmp_path / "box.pcd"
    I.write_pcd(path, pc.points, pc.normals, data="binary_compressed", dtype=np.float32)
    raw = 2000 * 6 * 4
    assert os.path.getsize(path) < raw
    r = I.read_point_cloud(path)
    np.testing.assert_allclose(r.normals, pc.normals, atol=1e-7)


@pytest.mark.parametrize("ext, delim", [(".xyz", " "), (".xyzn", " "), (".txt", ","), (".pts", "\t")])
def test_text_round_trip(tmp_path, cloud, ext, delim):
    P, N, _ = cloud
    path = tmp_path / ("c" + ext)
    I.write_xyz(path, P, N, delimiter=delim)
    r = I.read_point_cloud(path)
    np.testing.assert_array_equal(r.points, P)
    np.testing.assert_array_equal(r.normals, N)
    I.write_xyz(path, P, delimiter=delim)
    if ext == ".xyzn":
        with pytest.raises(ValueError, match="xyzn"):
            I.read_point_cloud(path)
    else:
        r = I.read_point_cloud(path)
        np.testing.assert_array_equal(r.points, P)
        assert r.normals is None


def test_text_colours_and_header(tmp_path):
    path = tmp_path / "rgb.xyz"
    path.write_text("# comment\n0 0 0 255 0 0\n1 0 0 0 128 255\n0 1 0 10 20 30\n")
    r = I.read_point_cloud(path)
    assert r.normals is None
    np.testing.assert_allclose(r.colors[1], [0, 128 / 255, 1])
    r = I.read_point_cloud(DATA / "comma_header.txt")
    assert r.points.shape == (3, 3)
    np.testing.assert_allclose(r.normals[1], [1, 0, 0])


@pytest.mark.parametrize("ext", [".obj", ".off", ".stl", ".ply", "ascii.stl", "ascii.ply"])
def test_mesh_round_trip(tmp_path, mesh, ext):
    v, f = mesh
    path = tmp_path / ("m" + (ext if ext.startswith(".") else "_" + ext))
    if ext == ".obj":
        I.write_obj(path, v, f)
    elif ext == ".off":
        I.write_off(path, v, f)
    elif ext.endswith(".stl"):
        I.write_stl(path, v, f, binary=ext == ".stl")
    else:
        I.write_ply(path, v, faces=f, binary=ext == ".ply")
    rv, rf = I.read_mesh(path)
    # same triangles (STL stores float32 and re-indexes shared corners: compare rounded corner sets)
    key = lambda tri: np.sort(np.round(tri.reshape(len(tri), -1), 5).view("f8,f8,f8,f8,f8,f8,f8,f8,f8").ravel())  # noqa: E731
    np.testing.assert_array_equal(key(rv[rf]), key(v[f]))
    if not ext.endswith(".stl"):
        np.testing.assert_array_equal(rv, v)
        np.testing.assert_array_equal(rf, f)
    assert len(rv) == len(v)


def test_obj_normals_round_trip(tmp_path, mesh):
    v, f = mesh
    n = np.random.default_rng(1).standard_normal(v.shape)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    path = tmp_path / "n.obj"
    I.write_obj(path, v, f, normals=n)
    r = I.read_point_cloud(path)
    np.testing.assert_array_equal(r.points, v)
    np.testing.assert_array_equal(r.normals, n)


def test_hand_written_fixtures():
    for name in ("cube_quads.obj", "cube.off"):
        v, f = I.read_mesh(DATA / name)
        assert v.shape == (8, 3) and f.shape == (12, 3)
        tri = v[f]
        cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        assert (np.einsum("ij,ij->i", cross, tri.mean(1)) > 0).all(), f"{name}: faces wind outward"
        assert 0.5 * np.linalg.norm(cross, axis=1).sum() == pytest.approx(6.0)
    v, f = I.read_mesh(DATA / "tetra_ascii.stl")
    assert v.shape == (4, 3) and f.shape == (4, 3)
    v, f = I.read_mesh(DATA / "modelnet_glued.off")
    assert v.shape == (4, 3) and f.shape == (2, 3)
    r = I.read_point_cloud(DATA / "pcl_ascii_rgb.pcd")
    assert r.points.shape == (3, 3) and r.colors.shape == (3, 3)
    np.testing.assert_allclose(r.points[2], [0.81915, 0.32, 0.0])
    assert ((r.colors >= 0) & (r.colors <= 1)).all()
    total = sum(p.stat().st_size for p in DATA.iterdir())
    assert total < 200_000


def test_sample_mesh_area_weighted_with_face_normals():
    v, f = I.read_mesh(DATA / "cube_quads.obj")
    s = I.sample_mesh(v, f, 6000, seed=3)
    assert np.abs(np.abs(s.points).max(1) - 0.5).max() < 1e-12, "on the surface"
    axis = np.argmax(np.abs(s.normals), axis=1)
    np.testing.assert_allclose(np.bincount(axis, minlength=3) / 6000, 1 / 3, atol=0.03)
    np.testing.assert_allclose(np.sign(s.normals[np.arange(6000), axis]), np.sign(s.points[np.arange(6000), axis]))
    # a long thin box: counts follow face areas, not face counts
    thin = v * [4.0, 1.0, 1.0]
    s = I.sample_mesh(thin, f, 9000, seed=4)
    end_caps = (np.abs(s.normals[:, 0]) > 0.5).mean()
    assert end_caps == pytest.approx(2 / 18, abs=0.015)
    np.testing.assert_array_equal(I.sample_mesh(v, f, 50, 1).points, I.sample_mesh(v, f, 50, 1).points)


def test_load_point_cloud(tmp_path, mesh, cloud):
    v, f = mesh
    path = tmp_path / "m.off"
    I.write_off(path, v, f)
    pc = I.load_point_cloud(path, 500, seed=0)
    assert pc.points.shape == (500, 3) and pc.normals.shape == (500, 3)
    P, N, _ = cloud
    path = tmp_path / "c.ply"
    I.write_ply(path, P, N)
    pc = I.load_point_cloud(path, 1000, seed=0)
    assert pc.points.shape == (1000, 3)
    assert set(map(tuple, pc.points)) == set(map(tuple, P))


# ------------------------------------------------------------------------ bad files


def _writers(tmp_path, cloud, mesh):
    P, N, C = cloud
    v, f = mesh
    return {
        "bin.ply": lambda p: I.write_ply(p, P, N),
        "ascii.ply": lambda p: I.write_ply(p, P, N, binary=False),
        "bin.pcd": lambda p: I.write_pcd(p, P, N, data="binary"),
        "ascii.pcd": lambda p: I.write_pcd(p, P, N, data="ascii"),
        "comp.pcd": lambda p: I.write_pcd(p, P, N, data="binary_compressed"),
        "c.off": lambda p: I.write_off(p, v, f),
        "bin.stl": lambda p: I.write_stl(p, v, f),
        "ascii.stl": lambda p: I.write_stl(p, v, f, binary=False),
    }


def test_truncated_files_raise_naming_the_file(tmp_path, cloud, mesh):
    for name, write in _writers(tmp_path, cloud, mesh).items():
        good = tmp_path / name
        write(good)
        data = good.read_bytes()
        for frac in (0.5, 0.97):
            bad = tmp_path / f"trunc_{int(frac * 100)}_{name}"
            bad.write_bytes(data[: int(len(data) * frac)])
            reader = I.read_mesh if name.endswith((".off", ".stl")) else I.read_point_cloud
            with pytest.raises(ValueError, match=bad.name):
                reader(bad)


def test_corrupt_empty_missing_and_unknown(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.ply"):
        I.read_point_cloud(tmp_path / "nope.ply")
    (tmp_path / "x.las").write_text("1 2 3\n")
    with pytest.raises(ValueError, match="x.las.*extension"):
        I.read_point_cloud(tmp_path / "x.las")
    for name, text in [
        ("empty.xyz", ""),
        ("comments.xyz", "# nothing\n"),
        ("ragged.xyz", "0 0 0\n1 1\n"),
        ("words.txt", "x y z\na b c\n"),
        ("two_cols.xyz", "1 2\n3 4\n"),
        ("nan.xyz", "0 0 0\nnan 1 2\n"),
        ("inf.txt", "0,0,0\n1,inf,2\n"),
        ("noheader.pcd", "1 2 3\n"),
        ("badmode.pcd", "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 1\nHEIGHT 1\nPOINTS 1\nDATA zip\n"),
        ("short.pcd", "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 3\nHEIGHT 1\nPOINTS 3\nDATA ascii\n1 2 3\n"),
        ("nan.pcd", "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA ascii\n1 2 3\nnan nan nan\n"),
        ("notoff.off", "PLY\n3 1 0\n"),
        ("badface.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 7\n"),
        ("zero.obj", "v 0 0 0\nf 0 1 2\n"),
        ("novert.obj", "# empty\n"),
        ("garbage.ply", "this is not a ply file\n"),
        ("tiny.stl", "xx"),
    ]:
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(ValueError, match=name.replace(".", r"\.")):
            I.read_point_cloud(path)
    # organised clouds with invalid pixels can be read on request
    pc = I.read_point_cloud(tmp_path / "nan.pcd", drop_invalid=True)
    assert pc.points.shape == (1, 3)
    # a point cloud is not a mesh
    I.write_ply(tmp_path / "pts.ply", np.eye(3))
    with pytest.raises(ValueError, match="pts.ply.*no faces"):
        I.read_mesh(tmp_path / "pts.ply")
    with pytest.raises(ValueError, match="extension"):
        I.read_mesh(tmp_path / "nan.xyz")


def test_bad_arguments():
    v, f = I.read_mesh(DATA / "cube.off")
    with pytest.raises(ValueError, match="'faces'"):
        I.sample_mesh(v, f[:, :2], 10)
    with pytest.raises(ValueError, match="'faces'"):
        I.sample_mesh(v, f + 100, 10)
    with pytest.raises(TypeError, match="'faces'"):
        I.sample_mesh(v, f + 0.5, 10)
    with pytest.raises(ValueError, match="'faces'.*degenerate"):
        I.sample_mesh(np.zeros((3, 3)), [[0, 1, 2]], 10)
    with pytest.raises(ValueError, match="'n'"):
        I.sample_mesh(v, f, 0)
    with pytest.raises(ValueError, match="'vertices'"):
        I.sample_mesh(v[:, :2], f, 10)
    with pytest.raises(ValueError, match="'points'"):
        I.write_ply("/tmp/never.ply", np.zeros((3, 2)))
    with pytest.raises(ValueError, match="'normals'"):
        I.write_pcd("/tmp/never.pcd", np.zeros((3, 3)), normals=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="'data'"):
        I.write_pcd("/tmp/never.pcd", np.zeros((3, 3)), data="lz4")
