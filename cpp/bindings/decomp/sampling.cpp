// Bindings of the seeded sampler and of the group-convolution kernel inputs.
#include <manif_py/decomp/chart.h>
#include <manif_py/decomp/haar.h>
#include <manif_py/decomp/pairwise.h>

#include <cmath>

#include "decomp_args.h"

namespace manif_py::decomp_bind {
namespace {

int64_t positive_int(py::handle h, const std::string& fn, const char* arg, const char* extra = "") {
  const bool is_int = (PyLong_Check(h.ptr()) && !PyBool_Check(h.ptr())) ||
                      py::isinstance(h, py::module_::import("numpy").attr("integer"));
  if (!is_int)
    throw py::type_error(fn + ": argument '" + arg + "' must be a positive integer" + extra + ", got " +
                         std::string(py::repr(h)));
  const auto v = h.cast<int64_t>();
  if (v < 1) throw py::value_error(fn + ": argument '" + arg + "' must be a positive integer" + extra + ", got " + std::to_string(v));
  return v;
}

double finite_float(py::handle h, const std::string& fn, const char* arg) {
  if (!(PyFloat_Check(h.ptr()) || PyLong_Check(h.ptr()) || py::isinstance(h, py::module_::import("numpy").attr("number"))))
    throw py::type_error(fn + ": argument '" + arg + "' must be a real number, got " + std::string(py::repr(h)));
  const double v = h.cast<double>();
  if (!std::isfinite(v)) throw py::value_error(fn + ": argument '" + arg + "' must be finite, got " + std::to_string(v));
  return v;
}

uint64_t seed_value(py::handle h, const std::string& fn) {
  const bool is_int = (PyLong_Check(h.ptr()) && !PyBool_Check(h.ptr())) ||
                      py::isinstance(h, py::module_::import("numpy").attr("integer"));
  if (!is_int) throw py::type_error(fn + ": argument 'seed' must be an integer in [0, 2**64), got " + std::string(py::repr(h)));
  const py::int_ v = py::reinterpret_borrow<py::object>(h);
  if (v < py::int_(0) || v.attr("bit_length")().cast<int>() > 64)
    throw py::value_error(fn + ": argument 'seed' must be in [0, 2**64), got " + std::string(py::str(h)));
  return PyLong_AsUnsignedLongLong(v.ptr());
}

py::tuple sample_py(py::handle group, py::handle n_h, py::handle seed_h, py::handle spd_std_h, py::handle rotation_h,
                    py::handle offset_h) {
  const std::string fn = "sample";
  const Group grp = parse_group(group, fn);
  const int64_t count = positive_int(n_h, fn, "n");
  const uint64_t seed = seed_value(seed_h, fn);
  const double spd_std = finite_float(spd_std_h, fn, "spd_std");
  if (spd_std < 0.0) throw py::value_error(fn + ": argument 'spd_std' must be >= 0, got " + std::to_string(spd_std));
  const double offset = finite_float(offset_h, fn, "offset");
  decomp::RotationSampling rot;
  const std::string r = PyUnicode_Check(rotation_h.ptr()) ? rotation_h.cast<std::string>() : std::string();
  if (r == "haar") {
    rot = decomp::RotationSampling::Haar;
  } else if (r == "equidistant") {
    if (decomp::matrix_size(grp) != 2)
      throw py::value_error(fn + ": argument 'rotation'='equidistant' needs a 2x2 group (SO2, SL2, GL2), got " + group_name(grp));
    rot = decomp::RotationSampling::Equidistant;
  } else {
    throw py::value_error(fn + ": argument 'rotation' must be 'haar' or 'equidistant', got " + std::string(py::repr(rotation_h)));
  }
  const int k = decomp::matrix_size(grp);
  py::array_t<double> g({py::ssize_t(count), py::ssize_t(k), py::ssize_t(k)}), gi({py::ssize_t(count), py::ssize_t(k), py::ssize_t(k)});
  {
    py::gil_scoped_release release;
    // Eigen's matrices are column-major, numpy's rows: store through row-major maps.
    if (k == 2) {
      std::vector<decomp::Mat<double, 2>> a(static_cast<size_t>(count)), b(static_cast<size_t>(count));
      decomp::sample<double, 2>(grp, count, seed, spd_std, rot, offset, a.data(), b.data());
      for (int64_t i = 0; i < count; ++i) {
        Eigen::Map<Eigen::Matrix<double, 2, 2, Eigen::RowMajor>>(g.mutable_data() + 4 * i) = a[size_t(i)];
        Eigen::Map<Eigen::Matrix<double, 2, 2, Eigen::RowMajor>>(gi.mutable_data() + 4 * i) = b[size_t(i)];
      }
    } else {
      std::vector<decomp::Mat<double, 3>> a(static_cast<size_t>(count)), b(static_cast<size_t>(count));
      decomp::sample<double, 3>(grp, count, seed, spd_std, rot, offset, a.data(), b.data());
      for (int64_t i = 0; i < count; ++i) {
        Eigen::Map<Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(g.mutable_data() + 9 * i) = a[size_t(i)];
        Eigen::Map<Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(gi.mutable_data() + 9 * i) = b[size_t(i)];
      }
    }
  }
  return py::make_tuple(g, gi);
}

/// (M, 2, 2) elements of `grp` as float64, each checked (finite, det > 0, det = 1 for SL2 / SO2).
py::array_t<double> group_batch2(py::handle h, Group grp, const std::string& fn, const char* arg) {
  py::array a = matrix_batch(h, fn, arg, 2);
  auto d = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  const double* p = d.data();
  for (int64_t i = 0; i < d.shape(0); ++i) {
    const decomp::Mat<double, 2> g = Eigen::Map<const Eigen::Matrix<double, 2, 2, Eigen::RowMajor>>(p + 4 * i);
    Status st = decomp::check_gl_plus<double, 2>(g);
    if (st == Status::Ok) st = decomp::check_member<double, 2>(grp, g);
    if (st != Status::Ok)
      throw py::value_error(fn + ": argument '" + arg + "' element " + std::to_string(i) + " " + status_text(st, grp) +
                            "; expected shape (N, 2, 2) in " + group_name(grp));
  }
  return d;
}

template <class S>
py::tuple pairwise_typed(Group grp, const py::array_t<double>& A, const py::array_t<double>& B, int k) {
  const int64_t M = A.shape(0), K = B.shape(0), kk = int64_t(k) * k;
  const int width = 2 + decomp::chart_feature_count(grp);
  py::array_t<S> inputs({py::ssize_t(M), py::ssize_t(K), py::ssize_t(kk), py::ssize_t(width)});
  py::array_t<bool> mask({py::ssize_t(M), py::ssize_t(kk)});
  py::array_t<S> weights{py::ssize_t(K)};
  S* ip = inputs.mutable_data();
  bool* mp = mask.mutable_data();
  S* wp = weights.mutable_data();
  const double* a = A.data();
  const double* b = B.data();
  {
    py::gil_scoped_release release;
    for (int64_t j = 0; j < K; ++j) {
      const double* h = b + 4 * j;
      wp[j] = S(1.0 / std::abs(h[0] * h[3] - h[1] * h[2]));
    }
    // One row of output samples is K k^2 (2 + c) values. The loop is bound by
    // stores (about 0.4 ns a value); threads pay off only for outputs far above
    // the layer sizes (32 x 32 x 49 x 7 ran 2x slower threaded on a loaded 2-core box).
    const int64_t per_row = K * kk * width;
    if (M * per_row < (int64_t(1) << 22)) {
      decomp::pairwise_rows<S>(grp, a, b, K, k, 0, M, ip, mp);
    } else {
      parallel_for(M * per_row, [&](int64_t lo, int64_t hi) {
        // Chunks are in output values; run whole rows, each owned by the chunk holding its start.
        const int64_t r0 = (lo + per_row - 1) / per_row, r1 = std::min<int64_t>(M, (hi + per_row - 1) / per_row);
        if (r0 < r1) decomp::pairwise_rows<S>(grp, a, b, K, k, r0, r1, ip, mp);
      });
    }
  }
  return py::make_tuple(inputs, mask, weights);
}

py::tuple pairwise_py(py::handle group, py::handle h_out_inv, py::handle h_in, py::handle kernel_size, py::handle dtype) {
  const std::string fn = "pairwise";
  const Group grp = parse_group(group, fn);
  if (decomp::matrix_size(grp) != 2)
    throw py::value_error(fn + ": argument 'group' must be a 2x2 group ('SO2', 'SL2', 'GL2'), got " + group_name(grp));
  const int64_t k = positive_int(kernel_size, fn, "kernel_size", " (odd)");
  if (k % 2 == 0) throw py::value_error(fn + ": argument 'kernel_size' must be odd, got " + std::to_string(k));
  if (k > 1001) throw py::value_error(fn + ": argument 'kernel_size' must be at most 1001, got " + std::to_string(k));
  const py::array A = matrix_batch(h_out_inv, fn, "h_out_inv", 2);
  bool f32 = is_f32(A);
  if (!dtype.is_none()) {
    const py::dtype dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype));
    if (dt.is(py::dtype::of<float>())) f32 = true;
    else if (dt.is(py::dtype::of<double>())) f32 = false;
    else throw py::type_error(fn + ": argument 'dtype' must be float32, float64 or None, got " + std::string(py::str(dt)));
  }
  const auto a = group_batch2(A, grp, fn, "h_out_inv");
  const auto b = group_batch2(h_in, grp, fn, "h_in");
  return f32 ? pairwise_typed<float>(grp, a, b, int(k)) : pairwise_typed<double>(grp, a, b, int(k));
}

}  // namespace

void bind_sampling(py::module_& m) {
  m.def("sample", &sample_py, py::arg("group"), py::arg("n"), py::arg("seed"), py::arg("spd_std") = 0.1,
        py::arg("rotation") = "haar", py::arg("offset") = 0.0);
  m.def("pairwise", &pairwise_py, py::arg("group"), py::arg("h_out_inv"), py::arg("h_in"), py::arg("kernel_size"),
        py::arg("dtype") = py::none());
}

}  // namespace manif_py::decomp_bind
