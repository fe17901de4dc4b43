"""Affine-equivariant networks: exact and statistical equivariance, shapes, budgets, data, bad input, CLI."""

import json
import os

import numpy as np
import pytest
import torch

from manif_py.equivariant import data, evaluate, train, transforms
from manif_py.equivariant.layers import (GroupConv, GroupLayerNorm, InvariantProjection, LiftingConv, SpatialPool,
                                         rotate_images, support_window, warp_images)
from manif_py.equivariant.models import EquivariantNet, PlainCNN, build_model, count_parameters
from manif_py.equivariant import groups

torch.set_num_threads(1)

GROUPS = ["SO2", "SL2", "GL2"]


def tiny_net(group, **kw):
    torch.manual_seed(0)
    cfg = dict(channels=(3, 4, 4), num_samples=4, siren_width=16)
    cfg.update(kw)
    return EquivariantNet(group, **cfg).double().eval()


@pytest.fixture(scope="module")
def digits():
    x_tr, y_tr, x_te, y_te = data.train_test_digits()
    return x_tr, y_tr, x_te, y_te


# ------------------------------------------------------------------ exact equivariance


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_rot90_permutes_group_axis_exactly(group, quarter_turns):
    """Samples = rotations by 0, 90, 180, 270 degrees (equidistant, no SPD spread): rotating the
    input by q quarter turns rotates every feature map and shifts the group axis by -q."""
    net = tiny_net(group)
    net.fix_samples(4, seed=0, rotation="equidistant", spd_std=0.0)
    x = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    xr = torch.rot90(x, quarter_turns, (-2, -1))
    outs, outs_r = net.features(x, return_all=True), net.features(xr, return_all=True)
    assert len(outs) == 3
    for a, b in zip(outs, outs_r):
        expected = torch.rot90(torch.roll(a, -quarter_turns, dims=2), quarter_turns, (-2, -1))
        assert torch.allclose(b, expected, atol=1e-5, rtol=0), (b - expected).abs().max()
        # and the samples really matter: without the shift it does not match
        assert (torch.rot90(a, quarter_turns, (-2, -1)) - b).abs().max() > 1e-2
    assert torch.allclose(net(x), net(xr), atol=1e-5, rtol=0)
    assert torch.allclose(net.invariant_features(x), net.invariant_features(xr), atol=1e-5, rtol=0)


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("options", [dict(pool="blurmax"), dict(pool="blurmax", input_margin=4)])
def test_rot90_exact_with_blur_pooling_and_input_margin(group, options):
    """Anti-aliased pooling and a zero input margin keep the exact quarter-turn equivariance."""
    net = tiny_net(group, **options)
    net.fix_samples(4, seed=0, rotation="equidistant", spd_std=0.0)
    x = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    xr = torch.rot90(x, 1, (-2, -1))
    for a, b in zip(net.features(x, return_all=True), net.features(xr, return_all=True)):
        expected = torch.rot90(torch.roll(a, -1, dims=2), 1, (-2, -1))
        assert torch.allclose(b, expected, atol=1e-5, rtol=0), (b - expected).abs().max()
    assert torch.allclose(net(x), net(xr), atol=1e-5, rtol=0)


@pytest.mark.parametrize("group", GROUPS)
def test_rot90_exact_with_input_rotation_offsets(group):
    """rotate_input with 4 offsets: the eval output is a max over the samples {offset + k 90 deg},
    still exactly invariant to quarter turns (the offsets' warps commute with them)."""
    net = tiny_net(group, pool="blurmax", input_margin=4, rotate_input=True, eval_offsets=4)
    net.fix_samples(4, seed=0, rotation="equidistant", spd_std=0.0)
    x = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    out = net(x)
    assert torch.allclose(net(torch.rot90(x, 1, (-2, -1))), out, atol=1e-5, rtol=0)
    # the offsets matter: one offset gives another answer
    net.set_eval_offsets(1)
    assert (net(x) - out).abs().max() > 1e-4


def test_rotate_images_turns_counter_clockwise_about_the_centre():
    x = torch.rand(3, 2, 12, 12, dtype=torch.float64)
    quarter = torch.full((3,), torch.pi / 2, dtype=torch.float64)
    assert torch.allclose(rotate_images(x, quarter), torch.rot90(x, 1, (-2, -1)), atol=1e-12)
    assert torch.allclose(rotate_images(x, torch.zeros(3, dtype=torch.float64)), x, atol=1e-12)
    # two turns by 45 degrees make one by 90, for a smooth off-centre blob
    u = torch.arange(48, dtype=torch.float64) - 23.5
    blob = torch.exp(-((u[:, None] - 8) ** 2 + (u[None, :] + 5) ** 2) / 50)[None, None]
    eighth = torch.full((1,), torch.pi / 4, dtype=torch.float64)
    twice = rotate_images(rotate_images(blob, eighth), eighth)
    assert (twice - torch.rot90(blob, 1, (-2, -1))).abs().max() < 0.02
    assert (twice - torch.rot90(blob, -1, (-2, -1))).abs().max() > 0.5


def test_input_rotation_in_training_and_eval():
    """Training draws a fresh angle per digit from the model's generator; with one eval offset the
    model is the plain network (no resampling of the input)."""
    plain = tiny_net("GL2")
    net = tiny_net("GL2", rotate_input=True)
    x = torch.rand(4, 1, 16, 16, dtype=torch.float64)
    assert torch.equal(net(x), plain(x))
    net.train()
    plain.train()
    for m in (net, plain):
        m.sample_generator.manual_seed(7)
    a = net(x)
    net.sample_generator.manual_seed(7)
    assert torch.equal(net(x), a)                               # reproducible from the generator
    assert not torch.allclose(a, plain(x))                      # the inputs were turned
    angles = net._input_angles(1000, "cpu")
    assert angles.min() >= 0 and angles.max() < torch.pi / 2 and abs(float(angles.mean()) - torch.pi / 4) < 0.05


def test_warp_images_matches_the_compiled_warp():
    """warp_images(x, A) moves the pixel at centred p to A p: the test-set warp with t = 0."""
    rng = np.random.default_rng(0)
    x = rng.random((3, 1, 20, 20)).astype(np.float32)
    A = np.array([[[1.1, 0.2], [0.0, 0.9]], [[0.8, -0.1], [0.3, 1.2]], [[1.0, 0.0], [0.0, 1.0]]])
    ours = warp_images(torch.from_numpy(x), torch.from_numpy(A)).numpy()
    theta = transforms.theta_from(A, np.zeros((3, 2)), 20)
    assert np.abs(ours - transforms.warp_affine(x, theta)).max() < 1e-5
    assert np.abs(ours[2] - x[2]).max() < 1e-6


@pytest.mark.parametrize("group", GROUPS)
def test_input_maps_add_the_spd_factor_of_the_samples(group):
    """input_spd_std draws S^(1/2) R(phi): the polar rotation is the angle of rotate_input, the SPD factor
    is log-normal with the samples' convention (det 1 for SL2), SO2 keeps pure rotations; 0 reproduces
    the rotation-only stream."""
    plain = tiny_net(group, rotate_input=True)
    net = tiny_net(group, rotate_input=True, input_spd_std=0.3)
    plain.sample_generator.manual_seed(5)
    net.sample_generator.manual_seed(5)
    angles = plain._input_angles(2000, "cpu")
    plain.sample_generator.manual_seed(5)
    R = plain._input_maps(2000, "cpu")
    A = net._input_maps(2000, "cpu")
    eye = torch.eye(2, dtype=torch.float64)
    assert torch.allclose(R @ R.transpose(1, 2), eye.expand(2000, 2, 2), atol=1e-12)
    assert torch.allclose(torch.atan2(R[:, 0, 1], R[:, 0, 0]), angles, atol=1e-12)
    # left polar decomposition A = P R': the rotation part is the same angle
    U, sv, Vh = torch.linalg.svd(A)
    rot = U @ Vh
    assert torch.allclose(rot, R, atol=1e-10)
    logs = torch.log(sv)
    if group == "SO2":
        assert torch.allclose(sv, torch.ones_like(sv), atol=1e-12)
        return
    det = torch.linalg.det(A)
    if group == "SL2":
        assert torch.allclose(det, torch.ones_like(det), atol=1e-10)
    # S^(1/2) = expm(X_p / 2), the traceless coordinates (b2, b3) ~ N(0, 0.3^2) in the orthonormal basis
    # diag(1, -1) / sqrt 2, [[0, 1], [1, 0]] / sqrt 2: log s1 - log s2 = |(b2, b3)| / sqrt 2, a Rayleigh
    # variable of mean 0.3 sqrt(pi / 2) / sqrt 2
    spread = (logs[:, 0] - logs[:, 1]).abs()
    assert abs(float(spread.mean()) - 0.3 * (torch.pi / 4) ** 0.5) < 0.02


def test_input_spd_std_needs_rotate_input_and_a_finite_spread():
    for bad in (-0.1, float("nan")):
        with pytest.raises(ValueError, match="'input_spd_std'"):
            EquivariantNet("GL2", rotate_input=True, input_spd_std=bad)
    with pytest.raises(ValueError, match="'input_spd_std'.*rotate_input"):
        EquivariantNet("GL2", input_spd_std=0.1)
    # --no-rotate-input turns the default SPD offset off with the rotation; asked for explicitly, it is an error
    cfg = train.make_config(train.parse_args(["--model", "gl2", "--out", "x", "--no-rotate-input"]))
    assert cfg["input_spd_std"] == 0.0 and train.make_model(cfg).input_spd_std == 0.0
    assert train.make_config(train.parse_args(["--model", "gl2", "--out", "x"]))["input_spd_std"] == 0.3
    cfg = train.make_config(train.parse_args(["--model", "gl2", "--out", "x", "--no-rotate-input",
                                              "--input-spd-std", "0.2"]))
    with pytest.raises(ValueError, match="'input_spd_std'.*rotate_input"):
        train.make_model(cfg)


def test_blur_pooling_shapes_and_shift_stability():
    """blurmax halves the size like plain 2 x 2 pooling; a one-pixel shift of a thin stroke changes
    its output less than it changes plain max pooling's."""
    x = torch.zeros(1, 1, 1, 16, 16, dtype=torch.float64)
    x[..., 4:12, 7] = 1.0
    xs = torch.roll(x, 1, dims=-1)
    blur, plain = SpatialPool(2, "blurmax"), SpatialPool(2, "max")
    assert blur(x).shape == plain(x).shape == (1, 1, 1, 8, 8)
    d_blur = (blur(x) - blur(xs)).abs().sum()
    d_plain = (plain(x) - plain(xs)).abs().sum()
    assert d_blur < 0.75 * d_plain, (d_blur, d_plain)


@pytest.mark.parametrize("group", GROUPS)
def test_translation_invariance_of_logits(group):
    """Convolutions commute with translations; the global max removes them. The digit stays farther from
    the border than the receptive field (14 pixels), so zero padding sees the same background."""
    net = tiny_net(group)
    x = torch.zeros(1, 1, 64, 64, dtype=torch.float64)
    x[0, 0, 26:32, 28:36] = torch.rand(6, 8, dtype=torch.float64)
    # Shift by 4 pixels: a multiple of the total pooling stride, so the pooled grids align.
    assert torch.allclose(net(x), net(torch.roll(x, (4, -4), (-2, -1))), atol=1e-9)


# ------------------------------------------------------------------ statistical invariance


def _feature_shift(net, x, xt):
    """Mean relative change of the invariant features under the maps."""
    with torch.no_grad():
        f, ft = net.invariant_features(x), net.invariant_features(xt)
    return float(((ft - f).norm(dim=1) / f.norm(dim=1)).mean())


@pytest.mark.parametrize("group", ["SL2", "GL2"])
def test_statistical_invariance_under_random_affine_maps(group, digits):
    """Random det-1 maps (any rotation, shear up to 0.3, squeeze up to 1.3) and affNIST-like maps move the
    invariant features of a deterministic SL(2)/GL+(2) network (4 equidistant rotations, SPD factors
    with spread 0.05) by under 20% on average, and by at most 0.8 times what they move the features of
    the same network restricted to the identity sample (no group axis: a plain CNN with global max).
    Measured: SL2 0.17 vs 0.28, GL2 0.12 vs 0.18 on the SL set."""
    _, _, x_te, y_te = digits
    x = torch.from_numpy(x_te[::50][:20]).double()
    torch.manual_seed(0)
    net = EquivariantNet(group, channels=(4, 6, 6), siren_width=16).double().eval()
    for family in ("sl", "affnist"):
        s = transforms.make_test_set(family, x.float().numpy(), y_te[::50][:20], per_digit=1, seed=0)
        xt = torch.from_numpy(s["images"]).double()
        net.fix_samples(4, seed=0, rotation="equidistant", spd_std=0.05)
        shift = _feature_shift(net, x, xt)
        net.fix_samples(1, seed=0, rotation="equidistant", spd_std=0.0)  # the identity only
        shift_plain = _feature_shift(net, x, xt)
        assert shift < 0.2, (family, shift)
        assert shift < 0.8 * shift_plain, (family, shift, shift_plain)


# ------------------------------------------------------------------ shapes and budgets


@pytest.mark.parametrize("group", GROUPS)
def test_layer_shapes(group):
    M, K, k = 5, 3, 5
    g_out, g_out_inv = groups.sample(group, M, seed=1)
    g_in, _ = groups.sample(group, K, seed=2)
    lift = LiftingConv(2, 6, k)
    y = lift(torch.rand(4, 2, 20, 20), g_out_inv.float())
    assert y.shape == (4, 6, M, 20, 20)
    conv = GroupConv(group, 6, 7, k)
    inputs, mask, weights = groups.pairwise(group, g_out_inv, g_in, k)
    assert inputs.shape == (M, K, k * k, 2 + {"SO2": 2, "SL2": 4, "GL2": 5}[group]) and mask.shape == (M, k * k)
    z = conv(torch.rand(4, 6, K, 20, 20), inputs, weights)
    assert z.shape == (4, 7, M, 20, 20)
    assert GroupLayerNorm(7)(z).shape == z.shape
    assert SpatialPool(2, "avg")(z).shape == (4, 7, M, 10, 10)
    assert InvariantProjection()(z).shape == (4, 7)
    net = tiny_net(group)
    outs = net.features(torch.rand(3, 1, 40, 40, dtype=torch.float64), return_all=True)
    assert [tuple(o.shape) for o in outs] == [(3, 3, 4, 20, 20), (3, 4, 4, 10, 10), (3, 4, 4, 10, 10)]
    assert net(torch.rand(3, 40, 40, dtype=torch.float64)).shape == (3, 10)


def test_group_layer_norm_statistics():
    x = 3 + 2 * torch.randn(2, 4, 5, 6, 6, dtype=torch.float64)
    y = GroupLayerNorm(4)(x)
    assert torch.allclose(y.mean(dim=(1, 2, 3, 4)), torch.zeros(2, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(y.var(dim=(1, 2, 3, 4), unbiased=False), torch.ones(2, dtype=torch.float64), atol=1e-4)


def test_parameter_budgets_match():
    cfg = dict(channels=tuple(train.FULL["channels"]), num_samples=train.FULL["num_samples"])
    counts = {name: count_parameters(build_model(name, **cfg)) for name in ("cnn", "so2", "sl2", "gl2")}
    print("parameter counts:", counts)
    for name, n in counts.items():
        assert abs(n - counts["gl2"]) <= 0.1 * counts["gl2"], counts
    cnn = build_model("cnn", **cfg)
    assert isinstance(cnn, PlainCNN) and cnn(torch.rand(2, 1, 40, 40)).shape == (2, 10)


def test_kernels_vanish_outside_support():
    """Grid points that h^-1 moves beyond the support get zero kernel weight, points inside full
    weight, and rotations keep every tap (lifting and group convolution)."""
    p = torch.tensor([[0.0, 0.0], [1.0, 1.0], [1.5, 0.5], [2.0, 2.0], [0.0, 1.8]], dtype=torch.float64)
    w = support_window(p)
    assert w[0] == 1 and w[1] == 1 and 0 < w[2] < 1 and w[3] == 0 and w[4] == 0
    lift = LiftingConv(1, 2, 5).double()
    h_inv = torch.tensor([[[2.0, 0.0], [0.0, 2.0]], [[0.6, -0.8], [0.8, 0.6]]], dtype=torch.float64)
    wt = lift.weight(h_inv).reshape(2, 2, 1, 25)             # (C_out, M, C_in, k*k)
    grid = torch.stack(torch.meshgrid(torch.linspace(-1, 1, 5), torch.linspace(-1, 1, 5), indexing="ij"), -1)
    r = 2 * grid.reshape(-1, 2).norm(dim=-1).double()       # |h^-1 y| for the scaling
    assert (wt[:, 0, :, r > 1.25 * 2 ** 0.5] == 0).all() and (wt[:, 0, :, r <= 2 ** 0.5] != 0).all()
    assert (wt[:, 1] != 0).all()                             # rotation: all 25 taps kept
    g, g_inv = groups.sample("GL2", 3, seed=5, spd_std=0.8)
    conv = GroupConv("GL2", 2, 2, 5).double()
    inputs, _, weights = groups.pairwise("GL2", g_inv, g, 5)
    wc = conv.weight(inputs, weights).reshape(2, 3, 2, 3, 25)
    outside = inputs[:, 0, :, :2].norm(dim=-1) > 1.25 * 2 ** 0.5
    assert outside.any()
    assert (wc.permute(1, 4, 0, 2, 3)[outside] == 0).all()


def test_gradients_match_finite_differences():
    """Autograd through the SIREN kernels, the weight assembly and the masking, against central differences."""
    torch.manual_seed(0)
    conv = GroupConv("GL2", 2, 2, 3, siren_width=8).double()
    g_out, g_out_inv = groups.sample("GL2", 2, seed=3, spd_std=0.3)
    g_in, _ = groups.sample("GL2", 3, seed=4, spd_std=0.3)
    inputs, _, weights = groups.pairwise("GL2", g_out_inv, g_in, 3)
    x = torch.rand(1, 2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: conv(x, inputs, weights), (x,))
    # parameters of the kernel network (read-out and a sine layer) against central differences
    loss = lambda: (conv(x.detach(), inputs, weights) ** 2).sum()
    for p in (conv.kernel.readout.weight, conv.kernel.body[1].linear.weight):
        grad = torch.autograd.grad(loss(), p)[0]
        eps = 1e-6
        for idx in [(0, 0), (1, 3), (3, 7)]:
            with torch.no_grad():
                p[idx] += eps
                up = loss()
                p[idx] -= 2 * eps
                down = loss()
                p[idx] += eps
            fd = float((up - down) / (2 * eps))
            assert abs(fd - float(grad[idx])) < 1e-6 * max(1.0, abs(float(grad[idx]))), (fd, float(grad[idx]))


# ------------------------------------------------------------------ samples


def test_training_resamples_and_eval_is_fixed():
    net = tiny_net("GL2")
    x = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    assert torch.equal(net(x), net(x))                         # eval: fixed samples
    net.train()
    net.sample_generator.manual_seed(5)
    a, b = net(x), net(x)
    assert not torch.allclose(a, b)                            # fresh samples every forward
    net.sample_generator.manual_seed(5)
    assert torch.equal(net(x), a)                              # reproducible from the generator


# ------------------------------------------------------------------ data


def test_stratified_split_is_deterministic(digits):
    images, labels = data.load_mnist_5k()
    assert images.shape == (5000, 28, 28) and labels.shape == (5000,)
    tr, te = data.stratified_split(labels, seed=0)
    assert len(tr) == 4000 and len(te) == 1000 and not set(tr) & set(te)
    assert (np.bincount(labels[tr]) == 400).all() and (np.bincount(labels[te]) == 100).all()
    tr2, te2 = data.stratified_split(labels, seed=0)
    assert (tr == tr2).all() and (te == te2).all()
    assert not (data.stratified_split(labels, seed=1)[0] == tr).all()
    x_tr, y_tr, x_te, y_te = digits
    assert x_tr.shape == (4000, 1, 40, 40) and x_te.shape == (1000, 1, 40, 40) and x_tr.dtype == np.float32
    assert 0 <= x_tr.min() and x_tr.max() <= 1
    # padded centred: the 6-pixel frame is empty, the digit sits in the middle 28 x 28
    assert x_tr[:, :, :6].max() == 0 and x_tr[:, :, :, -6:].max() == 0
    assert np.allclose(x_tr[:, 0, 6:34, 6:34] * 255, images[tr].astype(np.float32), atol=1e-3)


@pytest.mark.parametrize("family", transforms.FAMILIES)
def test_test_sets(family, digits):
    _, _, x_te, y_te = digits
    x, y = x_te[:20], y_te[:20]
    s = transforms.make_test_set(family, x, y, per_digit=3, seed=0)
    assert s["images"].shape == (60, 1, 40, 40) and (s["labels"] == np.repeat(y, 3)).all()
    s2 = transforms.make_test_set(family, x, y, per_digit=3, seed=0)
    assert np.array_equal(s["images"], s2["images"])
    p = s["params"]
    det = np.linalg.det(s["A"])
    if family == "affnist":
        assert (np.abs(np.degrees(p["angle"])) <= 20).all() and (np.abs(p["shear"]) <= 0.2).all()
        assert ((p["sx"] >= 0.8) & (p["sx"] <= 1.2) & (p["sy"] >= 0.8) & (p["sy"] <= 1.2)).all()
        assert np.allclose(s["magnitude"], np.linalg.norm(s["A"] - np.eye(2), axis=(1, 2)))
    elif family == "sl":
        assert np.allclose(det, 1.0) and (np.abs(p["shear"]) <= 0.3).all()
    else:
        assert np.allclose(det, 1.0) and np.allclose(s["magnitude"], np.abs(np.degrees(p["angle"])))
        assert np.abs(s["magnitude"]).max() <= 180
    # the digit stays on the canvas: ink is conserved up to the Jacobian det A (and interpolation)
    ink_in = x.sum(axis=(1, 2, 3))[s["digit"]] * det
    ink_out = s["images"].sum(axis=(1, 2, 3))
    assert np.allclose(ink_out, ink_in, rtol=0.05)


def test_transform_moves_a_point_where_expected():
    """theta_from + warp_affine realise p -> A p + t in centred pixel coordinates."""
    img = np.zeros((1, 1, 40, 40), np.float32)
    img[0, 0, 24, 27] = 1.0                               # centred coords (x, y) = (7.5, 4.5)
    A = np.array([[[0.0, -1.0], [1.0, 0.0]]])             # 90 degrees
    t = np.array([[3.0, -2.0]])
    out = transforms.warp_affine(img, transforms.theta_from(A, t, 40).astype(np.float32))
    row, col = np.unravel_index(out[0, 0].argmax(), (40, 40))
    x, y = np.array([7.5, 4.5]) @ A[0].T + t[0]
    assert (col - 19.5, row - 19.5) == (x, y) and out.max() > 0.99


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("bad", [torch.rand(2, 2, 40, 40), torch.rand(40, 40), torch.rand(0, 1, 40, 40),
                                 torch.rand(2, 1, 2, 2)])
def test_bad_image_shapes(bad):
    for net in (tiny_net("GL2").float(), build_model("cnn", channels=(3, 4, 4), num_samples=4)):
        with pytest.raises(ValueError, match="'x'.*\\(B, 1, H, W\\)"):
            net(bad)


def test_bad_image_values_and_types():
    net = tiny_net("SL2").float()
    x = torch.rand(2, 1, 40, 40)
    x[1, 0, 3, 3] = float("nan")
    with pytest.raises(ValueError, match="'x'.*finite"):
        net(x)
    x[1, 0, 3, 3] = float("inf")
    with pytest.raises(ValueError, match="'x'.*finite"):
        net(x)
    with pytest.raises(TypeError, match="'x'"):
        net(torch.zeros(2, 1, 40, 40, dtype=torch.int64))
    with pytest.raises(TypeError, match="'x'"):
        net(np.zeros((2, 1, 40, 40), np.float32))
    with pytest.raises(ValueError, match="'x'.*\\(B, 1, 40, 40\\)"):
        build_model("cnn", channels=(3, 4, 4), num_samples=4)(torch.rand(2, 1, 32, 32))


def test_bad_configuration():
    with pytest.raises(ValueError, match="'group'"):
        EquivariantNet("SE2")
    with pytest.raises(ValueError, match="'kernel_size'"):
        EquivariantNet("GL2", kernel_size=4)
    with pytest.raises(ValueError, match="'num_samples'"):
        EquivariantNet("GL2", num_samples=0)
    with pytest.raises(ValueError, match="'name'"):
        build_model("resnet")
    with pytest.raises(ValueError, match="'input_margin'"):
        EquivariantNet("GL2", input_margin=3)
    with pytest.raises(ValueError, match="'mode'"):
        EquivariantNet("GL2", pool="median")
    with pytest.raises(ValueError, match="'kernel_size'.*blurmax"):
        SpatialPool(3, "blurmax")
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match="'eval_offsets'"):
            EquivariantNet("GL2", rotate_input=True, eval_offsets=bad)

    with pytest.raises(ValueError, match="'images'"):
        transforms.make_test_set("affnist", np.zeros((3, 40, 40), np.float32), np.zeros(3), 2)
    with pytest.raises(ValueError, match="'images'.*blank"):
        transforms.make_test_set("affnist", np.zeros((3, 1, 40, 40), np.float32), np.zeros(3), 2)
    with pytest.raises(ValueError, match="'family'"):
        transforms.make_test_set("perspective", np.ones((3, 1, 40, 40), np.float32), np.zeros(3), 2)
    with pytest.raises(ValueError, match="'--epochs'"):
        train.parse_args(["--model", "gl2", "--out", "x", "--epochs", "0"])


# ------------------------------------------------------------------ command line


def test_tiny_train_writes_checkpoint_and_resumes(tmp_path):
    """A 2-epoch run interrupted after epoch 1 and resumed ends bit for bit where an uninterrupted run ends."""
    common = ["--model", "sl2", "--tiny", "--epochs", "2", "--steps", "2", "--quiet", "--threads", "1"]
    full, parts = str(tmp_path / "full"), str(tmp_path / "parts")
    assert train.main(common + ["--out", full]) == 0
    assert train.main(common + ["--out", parts, "--stop-after", "1"]) == 0
    first = json.load(open(os.path.join(parts, "metrics.json")))
    assert [h["epoch"] for h in first["history"]] == [1]
    assert os.path.exists(os.path.join(parts, "checkpoint.pt"))
    assert train.main(common + ["--out", parts, "--resume"]) == 0
    m_full = json.load(open(os.path.join(full, "metrics.json")))
    m_parts = json.load(open(os.path.join(parts, "metrics.json")))
    assert [h["epoch"] for h in m_parts["history"]] == [1, 2]
    assert m_parts["history"][1]["train_loss"] == m_full["history"][1]["train_loss"]
    a = torch.load(os.path.join(full, "checkpoint.pt"), weights_only=False)["model"]
    b = torch.load(os.path.join(parts, "checkpoint.pt"), weights_only=False)["model"]
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # evaluation of the run writes metrics and the plot
    res = evaluate.main(["--runs", full, "--out", str(tmp_path / "eval"), "--test-limit", "20",
                         "--per-digit", "2", "1", "1", "--quiet", "--threads", "1"])
    assert res == 0
    ev = json.load(open(tmp_path / "eval" / "metrics.json"))
    r = ev["runs"][full]
    assert set(r["sets"]) == {"clean", "affnist", "sl", "rotation"} and 0 <= r["invariance_rate"] <= 1
    assert os.path.getsize(tmp_path / "eval" / "accuracy_vs_magnitude.png") > 1000
    # two worker processes give the same metrics as one process
    small = ["--test-limit", "20", "--per-digit", "2", "1", "1", "--quiet", "--threads", "1"]
    assert evaluate.main(["--runs", full, parts, "--out", str(tmp_path / "one")] + small) == 0
    assert evaluate.main(["--runs", full, parts, "--out", str(tmp_path / "two"), "--jobs", "2"] + small) == 0
    one, two = (json.load(open(tmp_path / d / "metrics.json"))["runs"] for d in ("one", "two"))
    for run in (full, parts):
        assert one[run]["sets"]["affnist"]["accuracy"] == two[run]["sets"]["affnist"]["accuracy"]
        assert one[run]["invariance_rate"] == two[run]["invariance_rate"]


def test_grid_samples_combine_quarter_turns_with_spd_factors():
    net = tiny_net("GL2")
    layers = net.draw_samples(8, seed=3, rotation="grid", spd_std=0.1)
    assert len(layers) == 3
    for g, g_inv in layers:
        assert g.shape == (8, 2, 2)
        assert torch.allclose(g @ g_inv, torch.eye(2, dtype=torch.float64).expand(8, 2, 2), atol=1e-12)
        angle = torch.atan2(g[:, 1, 0] - g[:, 0, 1], g[:, 0, 0] + g[:, 1, 1])      # polar rotation angle
        quarter = torch.remainder(angle / (torch.pi / 2) + 0.5, 4).floor()
        assert torch.equal(quarter, torch.tensor([0, 1, 2, 3, 0, 1, 2, 3], dtype=torch.float64))
        assert not torch.allclose(g[:4] @ g[:4].transpose(1, 2), g[4:] @ g[4:].transpose(1, 2))  # two SPD draws
    with pytest.raises(ValueError, match="'num_samples'.*multiple of 4"):
        net.draw_samples(6, seed=0, rotation="grid")
    with pytest.raises(ValueError, match="'rotation'"):
        net.draw_samples(4, seed=0, rotation="random")
