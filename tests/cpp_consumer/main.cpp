// A C++-only consumer of the installed manif_py headers: exercises each group once.
#include <cstdio>
#include <manif_py/lie.h>

template <class G>
int check(const char* name, manif_py::Rng& rng) {
  const G x = G::Random(rng), y = G::Random(rng);
  typename G::Jacobian J_z_x, J_z_y;
  const G z = x.compose(y, &J_z_x, &J_z_y);
  const G back = x.rplus(z.rminus(x));
  const double err = z.rminus(back).coeffs().norm();
  std::printf("%-6s rplus(rminus) error %.2e\n", name, err);
  return err < 1e-9 ? 0 : 1;
}

int main() {
  using namespace manif_py;
  Rng rng(7);
  int fails = 0;
  fails += check<SO2<double>>("SO2", rng);
  fails += check<SE2<double>>("SE2", rng);
  fails += check<SO3<double>>("SO3", rng);
  fails += check<SE3<double>>("SE3", rng);
  fails += check<SE23<double>>("SE23", rng);
  fails += check<Sim3<double>>("Sim3", rng);
  fails += check<SGal3<double>>("SGal3", rng);
  fails += check<Rn<double, 4>>("R4", rng);
  std::printf(fails ? "FAILED\n" : "OK\n");
  return fails;
}
