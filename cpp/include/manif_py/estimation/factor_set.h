// Containers of factors: one typed container per built-in factor type (the loop
// over its factors is compiled for that type, fixed-size all the way), and one
// for custom factors whose residual comes from a user callback (dynamic sizes).
// Each container whitens, applies the robust loss and accumulates into the
// normal equations.
#pragma once

#include <Eigen/Core>

#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "block_system.h"
#include "robust_loss.h"
#include "values.h"

namespace manif_py::estimation {

/// Costs summed over factors: chi2 = sum r^T Omega r, cost = sum rho(r^T Omega r).
struct CostSums {
  double chi2 = 0.0;
  double cost = 0.0;
  CostSums& operator+=(const CostSums& o) {
    chi2 += o.chi2;
    cost += o.cost;
    return *this;
  }
};

/// What every container offers the graph and the solver.
class FactorSet {
 public:
  virtual ~FactorSet() = default;
  virtual size_t size() const = 0;
  /// Global index (insertion order across all factors) of the i-th factor.
  virtual int64_t id(size_t i) const = 0;
  virtual std::vector<int> keys(size_t i) const = 0;
  /// True when the factor is invariant under one change of world frame applied
  /// to all its variables (between, point and range-bearing factors): a connected
  /// component made only of such factors has a gauge freedom. Priors and custom
  /// factors are not (custom ones may or may not be; they get the benefit of doubt).
  virtual bool relative(size_t i) const = 0;
  virtual std::string type_name() const = 0;
  virtual int residual_dim(size_t i) const = 0;
  /// The whitened residual U r of factor i, shape (dim,).
  virtual Eigen::VectorXd whitened_residual(const Values& v, size_t i) const = 0;
  /// Whitened residual U r (dim,) and whitened Jacobian U J (dim, sum of dofs), blocks in key order.
  virtual void linearize_one(const Values& v, size_t i, Eigen::VectorXd& r, Eigen::MatrixXd& J) const = 0;
  /// Costs at v (no Jacobians).
  virtual CostSums cost(const Values& v, const std::vector<Loss>& losses) const = 0;
  /// Costs at v, and H += sum w J^T J, g += sum w J^T r (whitened, robust weight w).
  virtual CostSums linearize(const Values& v, const std::vector<Loss>& losses, const BlockSystem& sys,
                             NormalEquations& eq) const = 0;
  virtual std::unique_ptr<FactorSet> clone() const = 0;

  std::string describe(const Values& v, size_t i) const {
    std::ostringstream s;
    s << "factor " << id(i) << " (" << type_name() << " on ";
    const auto k = keys(i);
    for (size_t a = 0; a < k.size(); ++a) s << (a ? ", " : "") << v.describe(k[a]);
    s << ")";
    return s.str();
  }

 protected:
  [[noreturn]] void throw_nonfinite(const Values& v, size_t i) const {
    throw std::runtime_error(describe(v, i) +
                             ": residual or Jacobian is NaN or inf at the current estimate");
  }
};

/// The container of one built-in factor type F (factors.h).
template <class F>
class TypedFactorSet final : public FactorSet {
 public:
  static constexpr int Dim = F::Dim, T = F::TotalDoF, N = F::NumKeys;

  void add(const F& f, int64_t global_id) {
    factors_.push_back(f);
    ids_.push_back(global_id);
  }
  size_t size() const override { return factors_.size(); }
  int64_t id(size_t i) const override { return ids_[i]; }
  std::vector<int> keys(size_t i) const override {
    return std::vector<int>(factors_[i].keys.begin(), factors_[i].keys.end());
  }
  bool relative(size_t) const override { return N > 1; }
  std::string type_name() const override { return F::type_name(); }
  std::unique_ptr<FactorSet> clone() const override { return std::make_unique<TypedFactorSet>(*this); }
  int residual_dim(size_t) const override { return Dim; }
  const F& factor(size_t i) const { return factors_[i]; }

  Eigen::VectorXd whitened_residual(const Values& v, size_t i) const override {
    const F& f = factors_[i];
    return f.sqrt_info.template triangularView<Eigen::Upper>() * f.error(v, nullptr);
  }

  void linearize_one(const Values& v, size_t i, Eigen::VectorXd& r, Eigen::MatrixXd& J) const override {
    const F& f = factors_[i];
    typename F::Jacobian Jf;
    const auto U = f.sqrt_info.template triangularView<Eigen::Upper>();
    r = U * f.error(v, &Jf);
    J = U * Jf;
  }

  CostSums cost(const Values& v, const std::vector<Loss>& losses) const override {
    CostSums c;
    for (size_t i = 0; i < factors_.size(); ++i) {
      const F& f = factors_[i];
      const typename F::Residual r = f.sqrt_info.template triangularView<Eigen::Upper>() * f.error(v, nullptr);
      const double s = r.squaredNorm();
      if (!std::isfinite(s)) throw_nonfinite(v, i);
      c.chi2 += s;
      c.cost += losses[f.loss_id].rho(s);
    }
    return c;
  }

  CostSums linearize(const Values& v, const std::vector<Loss>& losses, const BlockSystem& sys,
                     NormalEquations& eq) const override {
    CostSums c;
    typename F::Jacobian J;
    Eigen::Matrix<double, T, T> Hf;
    Eigen::Matrix<double, T, 1> gf;
    const std::array<int, N> dofs = F::DoFs;
    for (size_t i = 0; i < factors_.size(); ++i) {
      const F& f = factors_[i];
      const auto U = f.sqrt_info.template triangularView<Eigen::Upper>();
      const typename F::Residual r = U * f.error(v, &J);
      J = U * J;
      const double s = r.squaredNorm();
      if (!std::isfinite(s) || !J.allFinite()) throw_nonfinite(v, i);
      const Loss& loss = losses[f.loss_id];
      c.chi2 += s;
      c.cost += loss.rho(s);
      const double w = loss.weight(s);
      Hf.noalias() = J.transpose() * J;
      gf.noalias() = J.transpose() * r;
      if (w != 1.0) {
        Hf *= w;
        gf *= w;
      }
      sys.accumulate(eq, ids_[i], f.keys.data(), dofs.data(), N, Hf, gf);
    }
    return c;
  }

 private:
  std::vector<F> factors_;
  std::vector<int64_t> ids_;
};

/// A residual supplied by user code: fills r (dim,) and, when J is non-null, one
/// Jacobian block (dim, dof_k) per key, with right (local) Jacobians.
class CustomResidual {
 public:
  virtual ~CustomResidual() = default;
  virtual void evaluate(const Values& v, const std::vector<int>& keys, Eigen::VectorXd& r,
                        std::vector<Eigen::MatrixXd>* J) const = 0;
};

struct CustomFactor {
  std::vector<int> keys;
  int dim = 0;
  Eigen::MatrixXd sqrt_info;  ///< (dim, dim) upper triangular
  int loss_id = 0;
  std::shared_ptr<const CustomResidual> fn;
};

/// Custom factors: evaluated through their callbacks, then whitened and
/// accumulated like the built-in ones.
class CustomFactorSet final : public FactorSet {
 public:
  void add(CustomFactor f, int64_t global_id) {
    factors_.push_back(std::move(f));
    ids_.push_back(global_id);
  }
  size_t size() const override { return factors_.size(); }
  int64_t id(size_t i) const override { return ids_[i]; }
  std::vector<int> keys(size_t i) const override { return factors_[i].keys; }
  bool relative(size_t) const override { return false; }
  std::string type_name() const override { return "custom"; }
  std::unique_ptr<FactorSet> clone() const override { return std::make_unique<CustomFactorSet>(*this); }
  int residual_dim(size_t i) const override { return factors_[i].dim; }

  Eigen::VectorXd whitened_residual(const Values& v, size_t i) const override {
    Eigen::VectorXd r;
    eval(v, i, r, nullptr);
    return factors_[i].sqrt_info.triangularView<Eigen::Upper>() * r;
  }

  void linearize_one(const Values& v, size_t i, Eigen::VectorXd& r, Eigen::MatrixXd& J) const override {
    const CustomFactor& f = factors_[i];
    std::vector<Eigen::MatrixXd> blocks;
    eval(v, i, r, &blocks);
    int total = 0;
    for (const auto& b : blocks) total += static_cast<int>(b.cols());
    J.resize(f.dim, total);
    for (size_t k = 0, o = 0; k < blocks.size(); o += blocks[k].cols(), ++k) J.middleCols(o, blocks[k].cols()) = blocks[k];
    const auto U = f.sqrt_info.triangularView<Eigen::Upper>();
    r = U * r;
    J = U * J;
  }

  CostSums cost(const Values& v, const std::vector<Loss>& losses) const override {
    CostSums c;
    for (size_t i = 0; i < factors_.size(); ++i) {
      const double s = whitened_residual(v, i).squaredNorm();
      if (!std::isfinite(s)) throw_nonfinite(v, i);
      c.chi2 += s;
      c.cost += losses[factors_[i].loss_id].rho(s);
    }
    return c;
  }

  CostSums linearize(const Values& v, const std::vector<Loss>& losses, const BlockSystem& sys,
                     NormalEquations& eq) const override {
    CostSums c;
    Eigen::VectorXd r;
    std::vector<Eigen::MatrixXd> blocks;
    std::vector<int> dofs;
    for (size_t i = 0; i < factors_.size(); ++i) {
      const CustomFactor& f = factors_[i];
      eval(v, i, r, &blocks);
      const int n = static_cast<int>(f.keys.size());
      dofs.resize(n);
      int total = 0;
      for (int k = 0; k < n; ++k) total += (dofs[k] = v.dof(f.keys[k]));
      Eigen::MatrixXd J(f.dim, total);
      for (int k = 0, o = 0; k < n; o += dofs[k], ++k) J.middleCols(o, dofs[k]) = blocks[k];
      const auto U = f.sqrt_info.triangularView<Eigen::Upper>();
      r = U * r;
      J = U * J;
      const double s = r.squaredNorm();
      if (!std::isfinite(s) || !J.allFinite()) throw_nonfinite(v, i);
      const Loss& loss = losses[f.loss_id];
      c.chi2 += s;
      c.cost += loss.rho(s);
      const double w = loss.weight(s);
      const Eigen::MatrixXd Hf = w * (J.transpose() * J);
      const Eigen::VectorXd gf = w * (J.transpose() * r);
      sys.accumulate(eq, ids_[i], f.keys.data(), dofs.data(), n, Hf, gf);
    }
    return c;
  }

 private:
  void eval(const Values& v, size_t i, Eigen::VectorXd& r, std::vector<Eigen::MatrixXd>* J) const {
    const CustomFactor& f = factors_[i];
    f.fn->evaluate(v, f.keys, r, J);
    if (r.size() != f.dim) {
      std::ostringstream s;
      s << describe(v, i) << ": residual has length " << r.size() << ", expected " << f.dim;
      throw std::runtime_error(s.str());
    }
    if (J) {
      if (J->size() != f.keys.size())
        throw std::runtime_error(describe(v, i) + ": expected one Jacobian block per variable");
      for (size_t k = 0; k < f.keys.size(); ++k) {
        const auto& b = (*J)[k];
        if (b.rows() != f.dim || b.cols() != v.dof(f.keys[k])) {
          std::ostringstream s;
          s << describe(v, i) << ": Jacobian block " << k << " has shape (" << b.rows() << ", "
            << b.cols() << "), expected (" << f.dim << ", " << v.dof(f.keys[k]) << ")";
          throw std::runtime_error(s.str());
        }
      }
    }
  }

  std::vector<CustomFactor> factors_;
  std::vector<int64_t> ids_;
};

}  // namespace manif_py::estimation
