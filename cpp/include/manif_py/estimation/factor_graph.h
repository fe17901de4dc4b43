// A factor graph: the estimate (Values), the factors (one container per type),
// the table of per-factor robust losses, and the cached layout of its normal
// equations (rebuilt only when variables or factors are added or fixed).
#pragma once

#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "block_system.h"
#include "sparse_cholesky.h"
#include "factor_set.h"
#include "factors.h"
#include "information.h"
#include "values.h"

namespace manif_py::estimation {

class FactorGraph {
 public:
  FactorGraph() = default;
  FactorGraph(const FactorGraph& o) { *this = o; }
  FactorGraph& operator=(const FactorGraph& o) {
    if (this == &o) return *this;
    values_ = o.values_;
    losses_ = o.losses_;
    where_ = o.where_;
    sets_.clear();
    by_type_.clear();
    for (size_t s = 0; s < o.sets_.size(); ++s) sets_.push_back(o.sets_[s]->clone());
    for (const auto& [type, index] : o.by_type_) by_type_[type] = index;
    dirty_ = true;
    chol_.reset();
    return *this;
  }
  FactorGraph(FactorGraph&&) = default;
  FactorGraph& operator=(FactorGraph&&) = default;

  Values& values() { return values_; }
  const Values& values() const { return values_; }

  int add_variable(Kind k, const double* rep) {
    const int key = values_.add(k, rep);
    dirty_ = true;
    return key;
  }
  void set_fixed(int key, bool fixed) {
    if (values_.fixed(key) != fixed) dirty_ = true;
    values_.set_fixed(key, fixed);
  }

  /// Registers a robust loss for per-factor use; returns its id (>= 1).
  int add_loss(const Loss& l) {
    losses_.push_back(l);
    return static_cast<int>(losses_.size()) - 1;
  }
  /// The loss table with slot 0 (the solve-level default) set to `fallback`.
  std::vector<Loss> losses(const Loss& fallback) const {
    std::vector<Loss> l = losses_;
    l[0] = fallback;
    return l;
  }

  /// Checks a built-in factor against the graph and fills its square-root
  /// information from `omega` (Dim x Dim): keys existing, distinct and of the
  /// right groups, the measurement finite, the information symmetric positive
  /// definite. Errors name the factor by the id it would get (`id`).
  template <class F, class M>
  F prepare(F f, const Eigen::MatrixBase<M>& omega, int64_t id) const {
    const std::string label = "factor " + std::to_string(id) + " (" + F::type_name() + ")";
    for (int a = 0; a < F::NumKeys; ++a) {
      const int k = f.keys[a];
      if (k < 0 || k >= values_.size()) {
        std::ostringstream s;
        s << label << ": unknown variable key " << k << " (the graph has " << values_.size() << " variables)";
        throw std::out_of_range(s.str());
      }
      if (values_.kind(k) != F::KeyKinds[a]) {
        std::ostringstream s;
        s << label << ": variable " << k << " is " << values_.info(k).name << ", expected "
          << kind_info(F::KeyKinds[a]).name;
        throw std::invalid_argument(s.str());
      }
      for (int b = 0; b < a; ++b)
        if (f.keys[b] == k) throw std::invalid_argument(label + ": the same variable appears twice");
    }
    check_measurement(f.measured, label);
    f.sqrt_info = sqrt_information(omega, label);
    if (f.loss_id < 0 || f.loss_id >= static_cast<int>(losses_.size()))
      throw std::invalid_argument(label + ": unknown loss id");
    return f;
  }

  /// Appends a factor returned by prepare(); returns its id.
  template <class F>
  int64_t commit(const F& f) {
    const int64_t id = num_factors();
    auto& set = typed_set<F>();
    where_.emplace_back(set_index<F>(), set.size());
    set.add(f, id);
    dirty_ = true;
    return id;
  }

  /// prepare() then commit(): adds one built-in factor, returns its id.
  template <class F, class M>
  int64_t add(const F& f, const Eigen::MatrixBase<M>& omega) {
    return commit(prepare(f, omega, num_factors()));
  }

  /// Adds a custom factor; `omega` (dim x dim).
  int64_t add_custom(CustomFactor f, const Eigen::MatrixXd& omega) {
    const int64_t id = num_factors();
    const std::string label = "factor " + std::to_string(id) + " (custom)";
    if (f.keys.empty()) throw std::invalid_argument(label + ": needs at least one variable");
    if (f.dim <= 0) throw std::invalid_argument(label + ": residual dimension must be positive");
    for (size_t a = 0; a < f.keys.size(); ++a) {
      const int k = f.keys[a];
      if (k < 0 || k >= values_.size())
        throw std::out_of_range(label + ": unknown variable key " + std::to_string(k));
      for (size_t b = 0; b < a; ++b)
        if (f.keys[b] == k) throw std::invalid_argument(label + ": the same variable appears twice");
    }
    if (omega.rows() != f.dim || omega.cols() != f.dim)
      throw std::invalid_argument(label + ": information matrix must be (" + std::to_string(f.dim) + ", " +
                                  std::to_string(f.dim) + ")");
    if (f.loss_id < 0 || f.loss_id >= static_cast<int>(losses_.size()))
      throw std::invalid_argument(label + ": unknown loss id");
    f.sqrt_info = sqrt_information(omega, label);
    auto& set = custom_set();
    where_.emplace_back(custom_index(), set.size());
    set.add(std::move(f), id);
    dirty_ = true;
    return id;
  }

  int64_t num_factors() const { return static_cast<int64_t>(where_.size()); }
  const std::vector<std::unique_ptr<FactorSet>>& sets() const { return sets_; }
  /// (container, index in it) of factor `id`.
  std::pair<const FactorSet*, size_t> factor(int64_t id) const {
    if (id < 0 || id >= num_factors()) throw std::out_of_range("unknown factor id " + std::to_string(id));
    return {sets_[where_[id].first].get(), where_[id].second};
  }
  std::string describe_factor(int64_t id) const {
    const auto [set, i] = factor(id);
    return set->describe(values_, i);
  }

  CostSums cost(const std::vector<Loss>& losses) const {
    CostSums c;
    for (const auto& s : sets_) c += s->cost(values_, losses);
    return c;
  }
  CostSums linearize(const std::vector<Loss>& losses, NormalEquations& eq) {
    const BlockSystem& sys = system();
    eq.zero();
    CostSums c;
    for (const auto& s : sets_) c += s->linearize(values_, losses, sys, eq);
    return c;
  }

  /// The layout of the normal equations, rebuilt after structural changes.
  /// Throws if some variable is unconstrained or some connected component
  /// has a gauge freedom (only relative factors and no fixed variable).
  const BlockSystem& system() {
    if (!dirty_) return sys_;
    check_gauge();
    std::vector<int> dofs(values_.size()), keys;
    std::vector<char> fixed(values_.size());
    for (int v = 0; v < values_.size(); ++v) {
      dofs[v] = values_.dof(v);
      fixed[v] = values_.fixed(v) ? 1 : 0;
    }
    std::vector<int64_t> begin(num_factors() + 1, 0);
    for (int64_t f = 0; f < num_factors(); ++f) {
      const auto [set, i] = factor(f);
      const auto k = set->keys(i);
      keys.insert(keys.end(), k.begin(), k.end());
      begin[f + 1] = static_cast<int64_t>(keys.size());
    }
    sys_.build(dofs, fixed, keys, begin);
    dirty_ = false;
    ++structure_version_;
    return sys_;
  }
  /// The sparse factorisation object for the current layout, with its symbolic
  /// analysis done (kept across solves until the structure changes).
  SparseCholesky& cholesky() {
    const BlockSystem& sys = system();
    if (!chol_ || analyzed_version_ != structure_version_) {
      chol_ = std::make_unique<SparseCholesky>();
      chol_->analyze(sys);
      analyzed_version_ = structure_version_;
    }
    return *chol_;
  }

 private:
  template <class T>
  static void check_measurement(const T& m, const std::string& label) {
    if constexpr (std::is_base_of_v<Eigen::MatrixBase<T>, T>) {
      if (!m.allFinite()) throw std::invalid_argument(label + ": measurement contains NaN or inf");
    } else {
      if (!m.coeffs().allFinite()) throw std::invalid_argument(label + ": measurement contains NaN or inf");
    }
  }

  void check_gauge() const {
    const int V = values_.size();
    std::vector<int> parent(V);
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&](int x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];
      return x;
    };
    std::vector<char> anchored(V, 0), touched(V, 0);
    for (int v = 0; v < V; ++v)
      if (values_.fixed(v)) anchored[v] = touched[v] = 1;
    std::vector<std::pair<int, bool>> roots_anchor;
    for (int64_t f = 0; f < num_factors(); ++f) {
      const auto [set, i] = factor(f);
      const auto k = set->keys(i);
      for (int v : k) touched[v] = 1;
      for (size_t a = 1; a < k.size(); ++a) parent[find(k[a])] = find(k[0]);
    }
    for (int64_t f = 0; f < num_factors(); ++f) {
      const auto [set, i] = factor(f);
      if (!set->relative(i)) anchored[set->keys(i)[0]] = 1;
    }
    for (int v = 0; v < V; ++v)
      if (!touched[v])
        throw std::runtime_error("singular system: variable " + values_.describe(v) +
                                 " appears in no factor (add a factor on it, fix it, or remove it)");
    std::vector<char> root_anchored(V, 0);
    std::vector<int> comp_size(V, 0);
    for (int v = 0; v < V; ++v) {
      if (anchored[v]) root_anchored[find(v)] = 1;
      ++comp_size[find(v)];
    }
    for (int v = 0; v < V; ++v) {
      if (root_anchored[find(v)]) continue;
      const int count = comp_size[find(v)];
      std::ostringstream s;
      s << "singular system: the graph is not anchored (gauge freedom). The connected component of "
        << count << " variable(s) containing " << values_.describe(v)
        << " has only relative factors (between / point / range-bearing) and no prior or fixed "
           "variable; add a prior (e.g. on its first pose) or fix one variable";
      throw std::runtime_error(s.str());
    }
  }

  template <class F>
  TypedFactorSet<F>& typed_set() {
    return static_cast<TypedFactorSet<F>&>(*sets_[set_index<F>()]);
  }
  template <class F>
  int set_index() {
    const std::type_index t(typeid(F));
    auto it = by_type_.find(t);
    if (it != by_type_.end()) return it->second;
    sets_.push_back(std::make_unique<TypedFactorSet<F>>());
    return by_type_[t] = static_cast<int>(sets_.size()) - 1;
  }
  CustomFactorSet& custom_set() { return static_cast<CustomFactorSet&>(*sets_[custom_index()]); }
  int custom_index() {
    const std::type_index t(typeid(CustomFactor));
    auto it = by_type_.find(t);
    if (it != by_type_.end()) return it->second;
    sets_.push_back(std::make_unique<CustomFactorSet>());
    return by_type_[t] = static_cast<int>(sets_.size()) - 1;
  }

  Values values_;
  std::vector<std::unique_ptr<FactorSet>> sets_;
  std::unordered_map<std::type_index, int> by_type_;
  std::vector<std::pair<int, size_t>> where_;  ///< factor id -> (container, index)
  std::vector<Loss> losses_{Loss::none()};
  bool dirty_ = true;
  int64_t structure_version_ = 0;
  int64_t analyzed_version_ = -1;
  BlockSystem sys_;
  std::unique_ptr<SparseCholesky> chol_;
};

}  // namespace manif_py::estimation
