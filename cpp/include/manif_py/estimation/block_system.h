// The normal equations H dx = -g of a factor graph as a sparse symmetric matrix
// whose pattern is fixed by the graph: variables are ordered once (approximate
// minimum degree on the variable graph, so every variable's tangent coordinates
// stay contiguous), the lower triangle is laid out in compressed columns, and
// every factor knows where its blocks land. Assembly then writes straight into
// the value array, with no triplets, sorting or search per iteration.
#pragma once

#include <Eigen/OrderingMethods>
#include <Eigen/SparseCore>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace manif_py::estimation {

using SpMat = Eigen::SparseMatrix<double, Eigen::ColMajor, int>;

/// One set of normal equations on a BlockSystem's pattern: H (lower triangle) and g.
struct NormalEquations {
  SpMat H;
  Eigen::VectorXd g;
  void zero() {
    std::fill(H.valuePtr(), H.valuePtr() + H.nonZeros(), 0.0);
    g.setZero();
  }
  /// The position of H(j, j) in the value array (the first entry of column j).
  int64_t diag_index(int j) const { return H.outerIndexPtr()[j]; }
};

class BlockSystem {
 public:
  /// Fill-reducing ordering of the variables: approximate minimum degree on the
  /// variable graph, column AMD on the factor x variable incidence pattern (as
  /// GTSAM), or (Auto) whichever of the two needs fewer factorisation flops.
  enum class Ordering { Auto, AMD, COLAMD };
  Ordering ordering = Ordering::Auto;

  /// Builds the ordering and the pattern.
  /// var_dof: (V,) tangent size of each variable; fixed: (V,) nonzero = held constant;
  /// factor_keys / factor_begin: the keys of factor f are
  /// factor_keys[factor_begin[f] : factor_begin[f + 1]].
  void build(const std::vector<int>& var_dof, const std::vector<char>& fixed,
             const std::vector<int>& factor_keys, const std::vector<int64_t>& factor_begin) {
    const int V = static_cast<int>(var_dof.size());
    const int64_t F = static_cast<int64_t>(factor_begin.size()) - 1;

    // Variable adjacency (free variables only), deduplicated.
    std::vector<std::vector<int>> adj(V);
    for (int64_t f = 0; f < F; ++f)
      for (int64_t a = factor_begin[f]; a < factor_begin[f + 1]; ++a)
        for (int64_t b = a + 1; b < factor_begin[f + 1]; ++b) {
          const int i = factor_keys[a], j = factor_keys[b];
          if (fixed[i] || fixed[j]) continue;
          adj[i].push_back(j);
          adj[j].push_back(i);
        }
    for (auto& a : adj) {
      std::sort(a.begin(), a.end());
      a.erase(std::unique(a.begin(), a.end()), a.end());
    }

    // Fill-reducing order of the free variables.
    std::vector<int> free_vars;
    std::vector<int> free_index(V, -1);
    for (int v = 0; v < V; ++v)
      if (!fixed[v]) {
        free_index[v] = static_cast<int>(free_vars.size());
        free_vars.push_back(v);
      }
    const int NF = static_cast<int>(free_vars.size());
    std::vector<int> order;  // order[k] = free index eliminated k-th
    if (NF > 0) {
      std::vector<std::vector<int>> adj_free(NF);
      std::vector<int> dof_free(NF);
      for (int i = 0; i < NF; ++i) {
        dof_free[i] = var_dof[free_vars[i]];
        for (int u : adj[free_vars[i]]) adj_free[i].push_back(free_index[u]);
      }
      if (ordering == Ordering::AMD) {
        order = amd_order(adj_free);
      } else if (ordering == Ordering::COLAMD) {
        order = colamd_order(free_index, fixed, factor_keys, factor_begin, NF);
      } else {  // the one with fewer estimated factorisation flops
        std::vector<int> a = amd_order(adj_free);
        std::vector<int> c = colamd_order(free_index, fixed, factor_keys, factor_begin, NF);
        order = factor_flops(c, adj_free, dof_free) < factor_flops(a, adj_free, dof_free) ? c : a;
      }
    }
    // Column of each variable in elimination order.
    pos_.assign(V, -1);
    col_.assign(V, -1);
    var_at_pos_.resize(NF);
    n_ = 0;
    for (int k = 0; k < NF; ++k) {
      const int v = free_vars[order[k]];  // (order holds free indices)
      pos_[v] = k;
      var_at_pos_[k] = v;
      col_[v] = n_;
      n_ += var_dof[v];
    }
    col_var_.resize(n_);
    for (int v : free_vars)
      for (int c = 0; c < var_dof[v]; ++c) col_var_[col_[v] + c] = v;

    // Lower pattern: the column block of variable b holds its own diagonal block
    // (rows c.. of column c) and then the row blocks of its neighbours eliminated
    // after it, in elimination order.
    below_.assign(V, {});
    below_rel_.assign(V, {});
    std::vector<int> column_len(n_, 0);
    for (int v : free_vars) {
      auto& lo = below_[v];
      for (int u : adj[v])
        if (pos_[u] > pos_[v]) lo.push_back(u);
      std::sort(lo.begin(), lo.end(), [&](int a, int b) { return pos_[a] < pos_[b]; });
      int rel = 0;
      below_rel_[v].reserve(lo.size());
      for (int u : lo) {
        below_rel_[v].push_back(rel);
        rel += var_dof[u];
      }
      for (int c = 0; c < var_dof[v]; ++c) column_len[col_[v] + c] = var_dof[v] - c + rel;
    }
    SpMat& H_ = pattern_.H;
    H_ = SpMat(n_, n_);
    int64_t nnz = 0;
    for (int j = 0; j < n_; ++j) nnz += column_len[j];
    H_.resizeNonZeros(static_cast<Eigen::Index>(nnz));
    int* outer = H_.outerIndexPtr();
    int* inner = H_.innerIndexPtr();
    outer[0] = 0;
    for (int j = 0; j < n_; ++j) outer[j + 1] = outer[j] + column_len[j];
    for (int v : free_vars) {
      for (int c = 0; c < var_dof[v]; ++c) {
        int* rows = inner + outer[col_[v] + c];
        for (int r = c; r < var_dof[v]; ++r) *rows++ = col_[v] + r;
        for (int u : below_[v])
          for (int r = 0; r < var_dof[u]; ++r) *rows++ = col_[u] + r;
      }
    }
    std::fill(H_.valuePtr(), H_.valuePtr() + nnz, 0.0);

    // Per factor: the offset of each of its free (k <= l) key pairs.
    slot_begin_.assign(F + 1, 0);
    slots_.clear();
    for (int64_t f = 0; f < F; ++f) {
      slot_begin_[f] = static_cast<int64_t>(slots_.size());
      for (int64_t a = factor_begin[f]; a < factor_begin[f + 1]; ++a) {
        const int i = factor_keys[a];
        if (fixed[i]) continue;
        for (int64_t b = a; b < factor_begin[f + 1]; ++b) {
          const int j = factor_keys[b];
          if (fixed[j]) continue;
          slots_.push_back(rel_offset(i, j));
        }
      }
    }
    slot_begin_[F] = static_cast<int64_t>(slots_.size());
    pattern_.g.setZero(n_);
  }

  int size() const { return n_; }
  /// First column of variable v, or -1 if v is fixed.
  const std::vector<int>& col() const { return col_; }
  int col(int v) const { return col_[v]; }
  /// The variable owning column j.
  int var_of_col(int j) const { return col_var_[j]; }
  int64_t nonzeros() const { return pattern_.H.nonZeros(); }
  /// Variables in elimination order (free variables only).
  const std::vector<int>& elimination_order() const { return var_at_pos_; }
  /// For a free variable: its neighbours in H eliminated after it, in elimination order.
  const std::vector<int>& later_neighbours(int v) const { return below_[v]; }
  /// A zeroed set of normal equations with this pattern.
  NormalEquations make_equations() const { return pattern_; }

  /// Adds one factor's contribution: H += Hf, g += gf, where Hf = w J^T J
  /// (TotalDoF x TotalDoF, symmetric, blocks in key order) and gf = w J^T r.
  /// keys / dofs: (N,); fixed keys are skipped.
  template <class HM, class GV>
  void accumulate(NormalEquations& eq, int64_t factor, const int* keys, const int* dofs, int N,
                  const HM& Hf, const GV& gf) const {
    double* val = eq.H.valuePtr();
    const int* outer = eq.H.outerIndexPtr();
    Eigen::VectorXd& g = eq.g;
    int64_t s = slot_begin_[factor];
    int ok = 0;
    for (int k = 0; k < N; ok += dofs[k], ++k) {
      const int ck = col_[keys[k]];
      if (ck < 0) continue;
      const int dk = dofs[k];
      for (int r = 0; r < dk; ++r) g[ck + r] += gf[ok + r];
      int ol = ok;
      for (int l = k; l < N; ol += dofs[l], ++l) {
        const int cl = col_[keys[l]];
        if (cl < 0) continue;
        const int rel = slots_[s++];
        const int dl = dofs[l];
        if (l == k) {  // lower triangle of the diagonal block
          for (int c = 0; c < dk; ++c) {
            double* dst = val + outer[ck + c] - c;
            for (int r = c; r < dk; ++r) dst[r] += Hf(ok + r, ok + c);
          }
        } else if (ck < cl) {  // columns of k, rows of l
          for (int c = 0; c < dk; ++c) {
            double* dst = val + outer[ck + c] + (dk - c) + rel;
            for (int r = 0; r < dl; ++r) dst[r] += Hf(ol + r, ok + c);
          }
        } else {  // columns of l, rows of k
          for (int c = 0; c < dl; ++c) {
            double* dst = val + outer[cl + c] + (dl - c) + rel;
            for (int r = 0; r < dk; ++r) dst[r] += Hf(ok + r, ol + c);
          }
        }
      }
    }
  }

 private:
  /// AMD on the symmetric variable graph; returns free indices in elimination order.
  static std::vector<int> amd_order(const std::vector<std::vector<int>>& adj) {
    const int n = static_cast<int>(adj.size());
    Eigen::SparseMatrix<int, Eigen::ColMajor, int> P(n, n);
    std::vector<Eigen::Triplet<int, int>> t;
    for (int v = 0; v < n; ++v) {
      t.emplace_back(v, v, 1);
      for (int u : adj[v]) t.emplace_back(u, v, 1);
    }
    P.setFromTriplets(t.begin(), t.end());
    Eigen::PermutationMatrix<Eigen::Dynamic, Eigen::Dynamic, int> perm;
    Eigen::AMDOrdering<int> amd;
    amd(P, perm);  // perm.indices()(k) = variable eliminated k-th
    return std::vector<int>(perm.indices().data(), perm.indices().data() + n);
  }

  /// COLAMD on the factor x variable incidence pattern.
  static std::vector<int> colamd_order(const std::vector<int>& free_index, const std::vector<char>& fixed,
                                       const std::vector<int>& factor_keys,
                                       const std::vector<int64_t>& factor_begin, int n) {
    std::vector<Eigen::Triplet<int, int>> t;
    int rows = 0;
    for (size_t f = 0; f + 1 < factor_begin.size(); ++f) {
      bool any = false;
      for (int64_t a = factor_begin[f]; a < factor_begin[f + 1]; ++a)
        if (!fixed[factor_keys[a]]) {
          t.emplace_back(rows, free_index[factor_keys[a]], 1);
          any = true;
        }
      rows += any;
    }
    Eigen::SparseMatrix<int, Eigen::ColMajor, int> A(std::max(rows, 1), n);
    A.setFromTriplets(t.begin(), t.end());
    A.makeCompressed();
    Eigen::PermutationMatrix<Eigen::Dynamic, Eigen::Dynamic, int> perm;
    Eigen::COLAMDOrdering<int> colamd;
    colamd(A, perm);  // perm.indices()(variable) = its elimination step
    std::vector<int> order(n);
    for (int k = 0; k < n; ++k) order[perm.indices()(k)] = k;
    return order;
  }

  /// Flops of a dense-block Cholesky in this elimination order, from the block
  /// structure of L (row-merge symbolic factorisation): sum_k d_k * rows_k^2.
  static double factor_flops(const std::vector<int>& order, const std::vector<std::vector<int>>& adj,
                             const std::vector<int>& dof) {
    const int n = static_cast<int>(order.size());
    std::vector<int> pos(n);
    for (int k = 0; k < n; ++k) pos[order[k]] = k;
    std::vector<std::vector<int>> st(n), children(n);
    std::vector<int> mark(n, -1);
    double flops = 0.0;
    for (int p = 0; p < n; ++p) {
      std::vector<int>& s = st[p];
      mark[p] = p;
      for (int u : adj[order[p]]) {
        const int q = pos[u];
        if (q > p && mark[q] != p) {
          mark[q] = p;
          s.push_back(q);
        }
      }
      for (int c : children[p]) {
        for (int q : st[c])
          if (mark[q] != p) {
            mark[q] = p;
            s.push_back(q);
          }
        std::vector<int>().swap(st[c]);
      }
      double rows = 0.0;
      int parent = n;
      for (int q : s) {
        rows += dof[order[q]];
        parent = std::min(parent, q);
      }
      const double d = dof[order[p]];
      flops += d * rows * rows + d * d * rows + d * d * d / 3.0;
      if (parent < n) children[parent].push_back(p);
    }
    return flops;
  }

  /// Offset of the rows of the later-eliminated variable of the pair inside the
  /// below-diagonal part of the columns of the earlier one (0 for i == j).
  int rel_offset(int i, int j) const {
    if (i == j) return 0;
    const int a = pos_[i] < pos_[j] ? i : j;  // column block
    const int b = pos_[i] < pos_[j] ? j : i;  // row block
    const auto& lo = below_[a];
    const auto it = std::lower_bound(lo.begin(), lo.end(), b,
                                     [&](int x, int y) { return pos_[x] < pos_[y]; });
    if (it == lo.end() || *it != b) throw std::logic_error("BlockSystem: factor pair missing from pattern");
    return below_rel_[a][it - lo.begin()];
  }

  int n_ = 0;
  std::vector<int> pos_, col_, var_at_pos_, col_var_;
  std::vector<std::vector<int>> below_, below_rel_;
  std::vector<int64_t> slot_begin_;
  std::vector<int> slots_;
  NormalEquations pattern_;
};

}  // namespace manif_py::estimation
