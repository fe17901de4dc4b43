// The whole Lie group core: include this to use every group from C++.
#pragma once

#include "lie/rn.h"
#include "lie/se2.h"
#include "lie/se23.h"
#include "lie/se3.h"
#include "lie/sgal3.h"
#include "lie/sim3.h"
#include "lie/so2.h"
#include "lie/so3.h"
