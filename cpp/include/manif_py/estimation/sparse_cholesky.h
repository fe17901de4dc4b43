// Supernodal sparse Cholesky H = L L^T of the normal equations, left-looking,
// with dense Eigen kernels on the supernode panels.
//
// The symbolic analysis works on variable blocks (every variable's tangent
// coordinates are contiguous and share one sparsity pattern): block elimination
// tree, block structure of L, then supernodes = chains of variables whose
// columns of L share their structure below the diagonal, merged further when
// the explicit zeros that adds stay few (relaxed supernodes). Each supernode
// stores its columns of L as one dense column-major panel (rows x columns);
// updates from earlier supernodes are dense products scattered by relative
// indices, and the diagonal block is factorised with Eigen's blocked LLT.
//
// A pivot L_jj^2 not above tol * H_jj is reported as a (numerically) singular
// system at column j.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "block_system.h"

namespace manif_py::estimation {

class SparseCholesky {
 public:
  using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;
  using MapMat = Eigen::Map<Mat>;
  using CMapMat = Eigen::Map<const Mat>;

  /// Symbolic analysis from the layout of `sys` (its elimination order).
  void analyze(const BlockSystem& sys) {
    const std::vector<int>& order = sys.elimination_order();
    const int nb = static_cast<int>(order.size());
    n_ = sys.size();
    // Block sizes and their first columns, in elimination order.
    std::vector<int> bstart(nb + 1, 0), pos_of_var;
    {
      int max_var = -1;
      for (int v : order) max_var = std::max(max_var, v);
      pos_of_var.assign(max_var + 1, -1);
      for (int p = 0; p < nb; ++p) pos_of_var[order[p]] = p;
    }
    for (int p = 0; p < nb; ++p) bstart[p + 1] = bstart[p] + (sys.col(order[p]) >= 0 ? dof_of(sys, p, order) : 0);

    // Block structure of L (strictly below the diagonal), by the row-merge rule:
    // struct(p) = later neighbours of p in H  U  struct(children of p) \ {p}.
    std::vector<std::vector<int>> st(nb);
    std::vector<std::vector<int>> children(nb);
    std::vector<int> parent(nb, -1), mark(nb, -1);
    for (int p = 0; p < nb; ++p) {
      std::vector<int>& s = st[p];
      mark[p] = p;
      for (int u : sys.later_neighbours(order[p])) {
        const int q = pos_of_var[u];
        if (mark[q] != p) {
          mark[q] = p;
          s.push_back(q);
        }
      }
      for (int c : children[p])
        for (int q : st[c])
          if (mark[q] != p) {
            mark[q] = p;
            s.push_back(q);
          }
      std::sort(s.begin(), s.end());
      if (!s.empty()) {
        parent[p] = s.front();
        children[s.front()].push_back(p);
      }
    }

    // Supernodes: p + 1 joins the supernode ending at p when it is p's parent and
    // the merged panel gains few explicit zeros.
    sn_first_.clear();
    std::vector<std::vector<int>> sn_struct;  // block rows below each supernode
    for (int p = 0; p < nb;) {
      int last = p;
      std::vector<int> rows = st[p];  // rows below the current supernode's columns
      int cols = bstart[p + 1] - bstart[p];
      int64_t zeros = 0;
      while (last + 1 < nb && parent[last] == last + 1) {
        const int q = last + 1;
        // rows after merging: rows \ {q}  U  st[q]; the existing columns gain
        // explicit zeros for the rows of st[q] they do not have.
        std::vector<int> merged;
        std::vector<int> tail(rows.begin() + 1, rows.end());  // rows.front() == q
        std::set_union(tail.begin(), tail.end(), st[q].begin(), st[q].end(), std::back_inserter(merged));
        int64_t new_rows = 0;
        for (int b : merged) new_rows += bstart[b + 1] - bstart[b];
        int64_t old_rows = 0;
        for (int b : tail) old_rows += bstart[b + 1] - bstart[b];
        const int qcols = bstart[q + 1] - bstart[q];
        const int64_t added = static_cast<int64_t>(cols) * (new_rows - old_rows);
        const int64_t total = static_cast<int64_t>(cols + qcols) * (cols + qcols + new_rows);
        const bool fundamental = added == 0;
        const bool relaxed = cols + qcols <= relax_cols && (zeros + added) <= relax_fraction * total;
        if (!fundamental && !relaxed) break;
        zeros += added;
        rows.swap(merged);
        cols += qcols;
        last = q;
      }
      sn_first_.push_back(p);
      sn_struct.push_back(rows);
      p = last + 1;
    }
    sn_first_.push_back(nb);
    const int ns = static_cast<int>(sn_first_.size()) - 1;

    // Scalar layout of the panels.
    sn_col_.assign(ns + 1, 0);
    sn_row_ptr_.assign(ns + 1, 0);
    sn_val_ptr_.assign(ns + 1, 0);
    rows_.clear();
    col_sn_.assign(n_, 0);
    for (int s = 0; s < ns; ++s) {
      const int c0 = bstart[sn_first_[s]], c1 = bstart[sn_first_[s + 1]];
      sn_col_[s] = c0;
      for (int c = c0; c < c1; ++c) {
        rows_.push_back(c);
        col_sn_[c] = s;
      }
      for (int b : sn_struct[s])
        for (int r = bstart[b]; r < bstart[b + 1]; ++r) rows_.push_back(r);
      sn_row_ptr_[s + 1] = static_cast<int64_t>(rows_.size());
      sn_val_ptr_[s + 1] = sn_val_ptr_[s] + (sn_row_ptr_[s + 1] - sn_row_ptr_[s]) * (c1 - c0);
    }
    sn_col_[ns] = n_;
    val_.assign(static_cast<size_t>(sn_val_ptr_[ns]), 0.0);
    map_.assign(n_, 0);
  }

  int64_t factor_nonzeros() const { return static_cast<int64_t>(val_.size()); }
  int num_supernodes() const { return static_cast<int>(sn_col_.size()) - 1; }

  /// Numeric factorisation of H (lower triangle, the layout analyze() saw).
  /// Returns -1 on success, else the first column whose pivot L_jj^2 is not
  /// above tol * H_jj (or not finite).
  int factorize(const SpMat& H, double tol) {
    const int ns = num_supernodes();
    const int* outer = H.outerIndexPtr();
    const int* inner = H.innerIndexPtr();
    const double* hv = H.valuePtr();
    std::vector<int> head(ns, -1), next(ns, -1), ptr(ns, 0);
    std::vector<int> rel;
    std::vector<double> work;
    for (int s = 0; s < ns; ++s) {
      const int c0 = sn_col_[s], nc = sn_col_[s + 1] - c0;
      const int* rs = rows_.data() + sn_row_ptr_[s];
      const int m = static_cast<int>(sn_row_ptr_[s + 1] - sn_row_ptr_[s]);
      MapMat P(val_.data() + sn_val_ptr_[s], m, nc);
      for (int i = 0; i < m; ++i) map_[rs[i]] = i;
      P.setZero();
      for (int c = 0; c < nc; ++c)
        for (int k = outer[c0 + c]; k < outer[c0 + c + 1]; ++k) P(map_[inner[k]], c) = hv[k];

      // Updates from every earlier supernode with rows in these columns.
      for (int d = head[s]; d >= 0;) {
        const int dnext = next[d];
        const int dc = sn_col_[d + 1] - sn_col_[d];
        const int* drs = rows_.data() + sn_row_ptr_[d];
        const int dm = static_cast<int>(sn_row_ptr_[d + 1] - sn_row_ptr_[d]);
        const int p = ptr[d];
        int q = p;
        while (q < dm && drs[q] < c0 + nc) ++q;
        const int m1 = q - p, m2 = dm - p;
        CMapMat Ld(val_.data() + sn_val_ptr_[d], dm, dc);
        work.resize(static_cast<size_t>(m2) * m1);
        MapMat C(work.data(), m2, m1);
        // Top m1 x m1 block: only its lower triangle is needed (symmetric rank update).
        const auto L1 = Ld.middleRows(p, m1);
        C.topRows(m1).template triangularView<Eigen::Lower>() = L1 * L1.transpose();
        if (m2 > m1) C.bottomRows(m2 - m1).noalias() = Ld.middleRows(q, m2 - m1) * L1.transpose();
        rel.resize(m2);
        for (int a = 0; a < m2; ++a) rel[a] = map_[drs[p + a]];
        for (int b = 0; b < m1; ++b) {
          double* dst = P.data() + static_cast<int64_t>(drs[p + b] - c0) * m;
          for (int a = b; a < m2; ++a) dst[rel[a]] -= C(a, b);
        }
        ptr[d] = q;
        if (q < dm) {  // d next updates the supernode owning its next row
          const int t = col_sn_[drs[q]];
          next[d] = head[t];
          head[t] = d;
        }
        d = dnext;
      }

      // Dense Cholesky of the diagonal block, then the rows below it.
      auto D = P.topRows(nc);
      const Eigen::Index bad = Eigen::internal::llt_inplace<double, Eigen::Lower>::blocked(D);
      if (bad >= 0) return c0 + static_cast<int>(bad);
      for (int c = 0; c < nc; ++c) {
        const double piv = D(c, c) * D(c, c);
        if (!(piv > tol * hv[outer[c0 + c]]) || !std::isfinite(piv)) return c0 + c;
      }
      if (m > nc) {
        auto B = P.bottomRows(m - nc);
        D.transpose().template triangularView<Eigen::Upper>().template solveInPlace<Eigen::OnTheRight>(B);
        ptr[s] = nc;
        const int t = col_sn_[rs[nc]];
        next[s] = head[t];
        head[t] = s;
      }
    }
    return -1;
  }

  /// Solves H X = B in place; B: (n, k).
  void solve_in_place(Eigen::Ref<Mat> B) const {
    const int ns = num_supernodes();
    const Eigen::Index k = B.cols();
    Mat tmp;
    for (int s = 0; s < ns; ++s) {  // L Y = B
      const int c0 = sn_col_[s], nc = sn_col_[s + 1] - c0;
      const int* rs = rows_.data() + sn_row_ptr_[s];
      const int m = static_cast<int>(sn_row_ptr_[s + 1] - sn_row_ptr_[s]);
      CMapMat P(val_.data() + sn_val_ptr_[s], m, nc);
      auto X = B.middleRows(c0, nc);
      P.topRows(nc).template triangularView<Eigen::Lower>().solveInPlace(X);
      if (m > nc) {
        tmp.noalias() = P.bottomRows(m - nc) * X;
        for (int a = 0; a < m - nc; ++a) B.row(rs[nc + a]) -= tmp.row(a);
      }
    }
    for (int s = ns - 1; s >= 0; --s) {  // L^T X = Y
      const int c0 = sn_col_[s], nc = sn_col_[s + 1] - c0;
      const int* rs = rows_.data() + sn_row_ptr_[s];
      const int m = static_cast<int>(sn_row_ptr_[s + 1] - sn_row_ptr_[s]);
      CMapMat P(val_.data() + sn_val_ptr_[s], m, nc);
      auto X = B.middleRows(c0, nc);
      if (m > nc) {
        tmp.resize(m - nc, k);
        for (int a = 0; a < m - nc; ++a) tmp.row(a) = B.row(rs[nc + a]);
        X.noalias() -= P.bottomRows(m - nc).transpose() * tmp;
      }
      P.topRows(nc).transpose().template triangularView<Eigen::Upper>().solveInPlace(X);
    }
  }

  Eigen::VectorXd solve(const Eigen::VectorXd& b) const {
    Mat x = b;
    solve_in_place(x);
    return x.col(0);
  }
  Eigen::MatrixXd solve(const Eigen::MatrixXd& b) const {
    Mat x = b;
    solve_in_place(x);
    return x;
  }

  /// Relaxed supernodes: merge while the panel has at most this many columns ...
  int relax_cols = 48;
  /// ... and at most this fraction of explicit zeros.
  double relax_fraction = 0.2;

 private:
  static int dof_of(const BlockSystem& sys, int p, const std::vector<int>& order) {
    const int v = order[p];
    // Columns of v run from col(v) to the next variable's first column.
    return p + 1 < static_cast<int>(order.size()) ? sys.col(order[p + 1]) - sys.col(v) : sys.size() - sys.col(v);
  }

  int n_ = 0;
  std::vector<int> sn_first_;        // first block of each supernode (+ end)
  std::vector<int> sn_col_;          // first column of each supernode (+ n)
  std::vector<int64_t> sn_row_ptr_;  // rows of supernode s: rows_[sn_row_ptr_[s] : sn_row_ptr_[s+1]]
  std::vector<int64_t> sn_val_ptr_;  // its panel: val_[sn_val_ptr_[s] : ...], column-major
  std::vector<int> rows_;
  std::vector<int> col_sn_;          // supernode owning each column
  std::vector<double> val_;
  std::vector<int> map_;             // scratch: row -> position in the current panel
};

}  // namespace manif_py::estimation
