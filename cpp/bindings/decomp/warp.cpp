// Bindings of the bilinear image warps (affine and projective), matching
// torch.nn.functional.grid_sample(align_corners=False, zeros padding).
#include <manif_py/decomp/warp.h>

#include <algorithm>
#include <cmath>

#include "decomp_args.h"

namespace manif_py::decomp_bind {
namespace {

/// The transforms as (count, 3, 3) row-major doubles; an affine (.., 2, 3) gets
/// the row (0, 0, 1). A single transform broadcasts over the images.
std::vector<double> transforms(py::handle h, const std::string& fn, const char* arg, bool projective, int64_t n_images) {
  const int rows = projective ? 3 : 2;
  const std::string one = "(" + std::to_string(rows) + ", 3)";
  const std::string want = "(N, " + std::to_string(rows) + ", 3) or " + one;
  py::array a = real_array(h, fn, arg, want);
  auto d = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  int64_t count;
  if (d.ndim() == 2 && d.shape(0) == rows && d.shape(1) == 3) {
    count = 1;
  } else if (d.ndim() == 3 && d.shape(1) == rows && d.shape(2) == 3) {
    count = d.shape(0);
    if (count != n_images && count != 1)
      throw py::value_error(fn + ": argument '" + arg + "' has " + std::to_string(count) + " transforms for " +
                            std::to_string(n_images) + " images; expected shape (" + std::to_string(n_images) + ", " +
                            std::to_string(rows) + ", 3) or " + one);
  } else {
    throw py::value_error(fn + ": argument '" + arg + "' must have shape " + want + ", got " + shape_of(a));
  }
  std::vector<double> T(size_t(count) * 9);
  const double* p = d.data();
  for (int64_t i = 0; i < count; ++i) {
    for (int k = 0; k < rows * 3; ++k) {
      if (!std::isfinite(p[i * rows * 3 + k]))
        throw py::value_error(fn + ": argument '" + arg + "' element " + std::to_string(i) + " contains NaN or inf");
      T[size_t(i) * 9 + size_t(k)] = p[i * rows * 3 + k];
    }
    if (!projective) T[size_t(i) * 9 + 6] = 0.0, T[size_t(i) * 9 + 7] = 0.0, T[size_t(i) * 9 + 8] = 1.0;
  }
  return T;
}

template <class S>
py::array warp_typed(const py::array& img, const std::vector<double>& T, bool projective, int64_t out_h, int64_t out_w) {
  const bool has_channels = img.ndim() == 4;
  const int64_t N = img.shape(0), C = has_channels ? img.shape(1) : 1;
  const int64_t H = img.shape(has_channels ? 2 : 1), W = img.shape(has_channels ? 3 : 2);
  std::vector<py::ssize_t> shape{py::ssize_t(N)};
  if (has_channels) shape.push_back(py::ssize_t(C));
  shape.push_back(py::ssize_t(out_h));
  shape.push_back(py::ssize_t(out_w));
  py::array_t<S> out(shape);
  const S* src = static_cast<const S*>(img.data());
  S* dst = out.mutable_data();
  const int64_t plane = out_h * out_w;
  const bool broadcast = T.size() == 9;
  {
    py::gil_scoped_release release;
    // Work items are output pixels (all channels each), across the images.
    parallel_for(N * plane, [&](int64_t lo, int64_t hi) {
      while (lo < hi) {
        const int64_t n = lo / plane, p0 = lo % plane, p1 = std::min(plane, p0 + (hi - lo));
        decomp::warp_pixels<S>(src + n * C * H * W, decomp::ImageShape{C, H, W}, dst + n * C * plane, out_h, out_w,
                               T.data() + (broadcast ? 0 : 9 * n), projective, p0, p1);
        lo += p1 - p0;
      }
    });
  }
  return out;
}

py::array warp_py(py::handle images, py::handle T_h, py::handle out_size, bool projective) {
  const std::string fn = projective ? "warp_homography" : "warp_affine";
  const std::string want = "(N, C, H, W) or (N, H, W)";
  py::array img = real_array(images, fn, "images", want);
  if (img.ndim() != 3 && img.ndim() != 4)
    throw py::value_error(fn + ": argument 'images' must have shape " + want + ", got " + shape_of(img));
  for (py::ssize_t i = 0; i < img.ndim(); ++i)
    if (img.shape(i) == 0)
      throw py::value_error(fn + ": argument 'images' is empty (shape " + shape_of(img) + "); expected " + want + " with all sizes >= 1");
  const int64_t N = img.shape(0);
  int64_t out_h = img.shape(img.ndim() - 2), out_w = img.shape(img.ndim() - 1);
  if (!out_size.is_none()) {
    py::sequence seq;
    bool ok = py::isinstance<py::sequence>(out_size) && !PyUnicode_Check(out_size.ptr()) && py::len(out_size) == 2;
    if (ok) {
      seq = py::reinterpret_borrow<py::sequence>(out_size);
      for (auto v : seq) ok = ok && (PyLong_Check(v.ptr()) || py::isinstance(v, py::module_::import("numpy").attr("integer"))) && !PyBool_Check(v.ptr());
    }
    if (!ok) throw py::type_error(fn + ": argument 'out_size' must be None or a pair of integers (H_out, W_out), got " + std::string(py::repr(out_size)));
    out_h = seq[0].cast<int64_t>();
    out_w = seq[1].cast<int64_t>();
    if (out_h < 1 || out_w < 1)
      throw py::value_error(fn + ": argument 'out_size' must be positive (H_out, W_out), got " + std::string(py::repr(out_size)));
  }
  const std::vector<double> T = transforms(T_h, fn, projective ? "H" : "theta", projective, N);
  if (is_f32(img)) return warp_typed<float>(img, T, projective, out_h, out_w);
  return warp_typed<double>(img, T, projective, out_h, out_w);
}

}  // namespace

void bind_warp(py::module_& m) {
  m.def("warp_affine", [](py::handle images, py::handle theta, py::handle out_size) { return warp_py(images, theta, out_size, false); },
        py::arg("images"), py::arg("theta"), py::arg("out_size") = py::none());
  m.def("warp_homography", [](py::handle images, py::handle H, py::handle out_size) { return warp_py(images, H, out_size, true); },
        py::arg("images"), py::arg("H"), py::arg("out_size") = py::none());
}

}  // namespace manif_py::decomp_bind
