#include "bind_batch.h"
#include "bind_single.h"

namespace manif_py::py_bind {

template <int N>
struct RnFamily { template <class S> using type = Rn<S, N>; };

template <int N>
void bind_rn_size(py::module_& m, py::module_& batch) {
  const std::string name = "R" + std::to_string(N);
  SingleBinder<Rn<double, N>> b{name, name + "Tangent"};
  b.bind_tangent(m);
  b.bind_group(m);
  BatchBinder<RnFamily<N>>{"batch." + name + "."}.bind(batch.def_submodule(name.c_str()));
}

void bind_rn(py::module_& m, py::module_& batch) {
  bind_rn_size<1>(m, batch);
  bind_rn_size<2>(m, batch);
  bind_rn_size<3>(m, batch);
  bind_rn_size<4>(m, batch);
  bind_rn_size<5>(m, batch);
  bind_rn_size<6>(m, batch);
}

}  // namespace manif_py::py_bind
