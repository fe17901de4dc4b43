// The estimate of a factor graph: variables of mixed groups in one flat array of
// group storage (rep) coefficients, plus the map from variables to columns of
// the linear system (their tangent coordinates).
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kinds.h"

namespace manif_py::estimation {

class Values {
 public:
  /// Rotation parts whose norm is within this of 1 are renormalised; others are rejected.
  static constexpr double unit_tolerance = 1e-3;

  /// Adds a variable of kind `k` from its storage coefficients `rep` (length
  /// kind_info(k).rep). Unit quaternions / complex numbers are renormalised;
  /// non-finite input is rejected. Returns the new variable's key.
  int add(Kind k, const double* rep) {
    const KindInfo info = kind_info(k);
    std::vector<double> clean(rep, rep + info.rep);
    sanitize(k, "variable " + std::to_string(size()), clean.data());
    const int key = size();
    kinds_.push_back(k);
    offsets_.push_back(static_cast<int64_t>(data_.size()));
    data_.insert(data_.end(), clean.begin(), clean.end());
    fixed_.push_back(0);
    return key;
  }

  int size() const { return static_cast<int>(kinds_.size()); }
  Kind kind(int key) const { return kinds_[check(key)]; }
  KindInfo info(int key) const { return kind_info(kind(key)); }
  int dof(int key) const { return info(key).dof; }

  const double* rep(int key) const { return data_.data() + offsets_[check(key)]; }
  double* rep(int key) { return data_.data() + offsets_[check(key)]; }

  /// The group element of variable `key`, which must be of group G.
  template <class G>
  G get(int key) const {
    using Vec = Eigen::Matrix<double, LieTraits<G>::RepSize, 1>;
    return G(Eigen::Map<const Vec>(data_.data() + offsets_[key]));
  }
  template <class G>
  void set(int key, const G& x) {
    using Vec = Eigen::Matrix<double, LieTraits<G>::RepSize, 1>;
    Eigen::Map<Vec>(data_.data() + offsets_[key]) = x.coeffs();
  }

  /// Overwrites variable `key` with new storage coefficients (same kind).
  void assign(int key, const double* rep) {
    const KindInfo in = info(key);
    std::vector<double> clean(rep, rep + in.rep);
    sanitize(kind(key), "variable " + std::to_string(key), clean.data());
    std::copy(clean.begin(), clean.end(), this->rep(key));
  }

  bool fixed(int key) const { return fixed_[check(key)] != 0; }
  void set_fixed(int key, bool f) { fixed_[check(key)] = f ? 1 : 0; }

  /// x_k <- x_k (+) delta[col[k] : col[k] + dof_k] for every variable with col[k] >= 0.
  void retract(const Eigen::VectorXd& delta, const std::vector<int>& col) {
    for (int k = 0; k < size(); ++k) {
      if (col[k] < 0) continue;
      visit_kind(kinds_[k], [&](auto tag) {
        using G = typename decltype(tag)::Group;
        using T = typename G::Tangent;
        const T t(delta.segment<LieTraits<G>::DoF>(col[k]));
        set<G>(k, get<G>(k).rplus(t));
      });
    }
  }

  /// The raw storage, for snapshots (restoring a rejected step is one copy).
  const std::vector<double>& data() const { return data_; }
  void restore(const std::vector<double>& d) { data_ = d; }

  std::string describe(int key) const {
    std::ostringstream s;
    s << "x" << key << " (" << info(key).name << ")";
    return s.str();
  }

  /// Rejects non-finite coefficients or a rotation part far from unit norm and
  /// renormalises the rotation part in place. `label` names the
  /// value in the error ("variable 3", "factor 7 measurement").
  static void sanitize(Kind k, const std::string& label, double* rep) {
    const KindInfo in = kind_info(k);
    for (int i = 0; i < in.rep; ++i)
      if (!std::isfinite(rep[i]))
        throw std::invalid_argument(label + " (" + in.name + "): value contains NaN or inf");
    const int pos = positive_part(k);
    if (pos >= 0 && !(rep[pos] > 0.0))
      throw std::invalid_argument(label + " (" + in.name + "): scale is " + std::to_string(rep[pos]) +
                                  ", expected a positive number");
    const UnitPart u = unit_part(k);
    if (u.length > 0) {
      double n2 = 0.0;
      for (int i = 0; i < u.length; ++i) n2 += rep[u.offset + i] * rep[u.offset + i];
      const double n = std::sqrt(n2);
      if (!(std::abs(n - 1.0) <= unit_tolerance))
        throw std::invalid_argument(label + " (" + in.name + "): rotation part has norm " + std::to_string(n) +
                                    ", expected 1 (a unit complex number or quaternion)");
      for (int i = 0; i < u.length; ++i) rep[u.offset + i] /= n;
    }
  }

 private:
  int check(int key) const {
    if (key < 0 || key >= size())
      throw std::out_of_range("unknown variable key " + std::to_string(key) + " (the graph has " +
                              std::to_string(size()) + " variables)");
    return key;
  }
  std::vector<Kind> kinds_;
  std::vector<int64_t> offsets_;
  std::vector<double> data_;
  std::vector<char> fixed_;
};

}  // namespace manif_py::estimation
