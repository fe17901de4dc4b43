// The estimation layer on the Lie group core: factor graphs over variables of
// any group, built-in factors with analytic right Jacobians, a sparse
// Gauss-Newton / Levenberg-Marquardt solver and marginal covariances.
#pragma once

#include "block_system.h"
#include "factor_graph.h"
#include "factor_set.h"
#include "factors.h"
#include "imu_factor.h"
#include "imu_preintegration.h"
#include "information.h"
#include "kinds.h"
#include "marginals.h"
#include "robust_loss.h"
#include "solver.h"
#include "sparse_cholesky.h"
#include "values.h"
