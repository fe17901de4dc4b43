// One scalar implementation of every operation with its Jacobians in either
// convention. The Python single-element path and the batch loops both call these.
#pragma once

#include "lie_group_base.h"

namespace manif_py {

template <class G>
struct Ops {
  using Tr = LieTraits<G>;
  using S = typename Tr::Scalar;
  static constexpr int DoF = Tr::DoF, Dim = Tr::Dim;
  using Tangent = typename Tr::Tangent;
  using Jac = Eigen::Matrix<S, DoF, DoF>;
  using JacPX = Eigen::Matrix<S, Dim, DoF>;
  using JacPP = Eigen::Matrix<S, Dim, Dim>;
  using JacS = Eigen::Matrix<S, DoF, 1>;
  using Point = Eigen::Matrix<S, Dim, 1>;

  static bool left(Convention c) { return c == Convention::Left; }

  static G inverse(const G& x, Jac* J, Convention c) {
    const G z = x.inverse(J);
    if (J && left(c)) {
      const Jac a = z.Adj();
      to_left<S, DoF, DoF>(*J, &a, &a);  // Adj(x)^-1 = Adj(z)
    }
    return z;
  }

  /// Shared tail of the binary group -> group operations: out = f(x, y).
  static void left_binary(const G& out, const G& x, const G& y, Jac* Jx, Jac* Jy) {
    const Jac ao = out.Adj();
    if (Jx) {
      const Jac ai = x.inverse().Adj();
      to_left<S, DoF, DoF>(*Jx, &ao, &ai);
    }
    if (Jy) {
      const Jac ai = y.inverse().Adj();
      to_left<S, DoF, DoF>(*Jy, &ao, &ai);
    }
  }

  static G compose(const G& x, const G& y, Jac* Jx, Jac* Jy, Convention c) {
    const G z = x.compose(y, Jx, Jy);
    if ((Jx || Jy) && left(c)) left_binary(z, x, y, Jx, Jy);
    return z;
  }
  static G between(const G& x, const G& y, Jac* Jx, Jac* Jy, Convention c) {
    const G z = x.between(y, Jx, Jy);
    if ((Jx || Jy) && left(c)) left_binary(z, x, y, Jx, Jy);
    return z;
  }

  static Tangent log(const G& x, Jac* J, Convention c) {
    const Tangent t = x.Log(J);
    if (J && left(c)) {
      const Jac ai = x.inverse().Adj();
      to_left<S, DoF, DoF>(*J, nullptr, &ai);
    }
    return t;
  }
  static G exp(const Tangent& t, Jac* J, Convention c) {
    const G x = t.Exp(J);
    if (J && left(c)) {
      const Jac ao = x.Adj();
      to_left<S, DoF, DoF>(*J, &ao, nullptr);
    }
    return x;
  }

  static Point act(const G& x, const Point& v, JacPX* Jx, JacPP* Jv, Convention c) {
    const Point p = x.act(v, Jx, Jv);
    if (Jx && left(c)) {
      const Jac ai = x.inverse().Adj();
      to_left<S, Dim, DoF>(*Jx, nullptr, &ai);
    }
    return p;
  }

  /// Shared tail of (group, tangent) -> group operations.
  static void left_plus(const G& out, const G& x, Jac* Jx, Jac* Jt) {
    const Jac ao = out.Adj();
    if (Jx) {
      const Jac ai = x.inverse().Adj();
      to_left<S, DoF, DoF>(*Jx, &ao, &ai);
    }
    if (Jt) to_left<S, DoF, DoF>(*Jt, &ao, nullptr);
  }
  static G rplus(const G& x, const Tangent& t, Jac* Jx, Jac* Jt, Convention c) {
    const G y = x.rplus(t, Jx, Jt);
    if ((Jx || Jt) && left(c)) left_plus(y, x, Jx, Jt);
    return y;
  }
  static G lplus(const G& x, const Tangent& t, Jac* Jx, Jac* Jt, Convention c) {
    const G y = x.lplus(t, Jx, Jt);
    if ((Jx || Jt) && left(c)) left_plus(y, x, Jx, Jt);
    return y;
  }

  /// Shared tail of (group, group) -> tangent operations.
  static void left_minus(const G& x, const G& y, Jac* Jx, Jac* Jy) {
    if (Jx) {
      const Jac ai = x.inverse().Adj();
      to_left<S, DoF, DoF>(*Jx, nullptr, &ai);
    }
    if (Jy) {
      const Jac ai = y.inverse().Adj();
      to_left<S, DoF, DoF>(*Jy, nullptr, &ai);
    }
  }
  static Tangent rminus(const G& x, const G& y, Jac* Jx, Jac* Jy, Convention c) {
    const Tangent t = x.rminus(y, Jx, Jy);
    if ((Jx || Jy) && left(c)) left_minus(x, y, Jx, Jy);
    return t;
  }
  static Tangent lminus(const G& x, const G& y, Jac* Jx, Jac* Jy, Convention c) {
    const Tangent t = x.lminus(y, Jx, Jy);
    if ((Jx || Jy) && left(c)) left_minus(x, y, Jx, Jy);
    return t;
  }

  static G interp(const G& x, const G& y, S s, Jac* Jx, Jac* Jy, JacS* Js, Convention c) {
    const G z = x.interp(y, s, Jx, Jy, Js);
    if ((Jx || Jy || Js) && left(c)) {
      left_binary(z, x, y, Jx, Jy);
      if (Js) *Js = (z.Adj() * *Js).eval();
    }
    return z;
  }
};

}  // namespace manif_py
