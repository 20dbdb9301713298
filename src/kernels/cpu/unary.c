/* One-input math ops: Abs Neg Sign Ceil Floor Round Sqrt Reciprocal Exp Log
 * the trigonometric and hyperbolic functions, Erf, IsNaN, IsInf, Not and
 * BitwiseNot. Float loops come from one <tgmath.h> expression for f32 and
 * f64 (float16/bfloat16 run the f32 loop through ew_run's conversion);
 * integer loops go through the unsigned twin so INT_MIN stays defined. */
#include "ew_internal.h"

#include <tgmath.h>

EW_FLOAT_UNARY(sqrt, sqrt(X))
EW_FLOAT_UNARY(exp, exp(X))
EW_FLOAT_UNARY(log, log(X))
EW_FLOAT_UNARY(sin, sin(X))
EW_FLOAT_UNARY(cos, cos(X))
EW_FLOAT_UNARY(tan, tan(X))
EW_FLOAT_UNARY(asin, asin(X))
EW_FLOAT_UNARY(acos, acos(X))
EW_FLOAT_UNARY(atan, atan(X))
EW_FLOAT_UNARY(sinh, sinh(X))
EW_FLOAT_UNARY(cosh, cosh(X))
EW_FLOAT_UNARY(tanh, tanh(X))
EW_FLOAT_UNARY(asinh, asinh(X))
EW_FLOAT_UNARY(acosh, acosh(X))
EW_FLOAT_UNARY(atanh, atanh(X))
EW_FLOAT_UNARY(erf, erf(X))
EW_FLOAT_UNARY(ceil, ceil(X))
EW_FLOAT_UNARY(floor, floor(X))
/* Round half to even, like numpy.round: rint under the default mode. */
EW_FLOAT_UNARY(round, nearbyint(X))
EW_FLOAT_UNARY(recip, (T_)1 / X)
/* exp(-x) overflows to inf for very negative x, giving 0: the right limit. */
EW_FLOAT_UNARY(sigmoid, (T_)1 / ((T_)1 + exp(-X)))

#define ABS_S(s, T, U) EW_UNARY(abs_##s, T, T, X < 0 ? (U)(0u - (U)X) : (U)X)
#define ABS_U(s, T, U) EW_UNARY(abs_##s, T, T, X)
#define NEG_I(s, T, U) EW_UNARY(neg_##s, T, T, (U)(0u - (U)X))
#define SIGN_S(s, T, U) EW_UNARY(sign_##s, T, T, (X > 0) - (X < 0))
#define SIGN_U(s, T, U) EW_UNARY(sign_##s, T, T, X > 0)
#define BNOT_I(s, T, U) EW_UNARY(bnot_##s, T, T, (U) ~(U)X)
EW_SINTS(ABS_S)
EW_UINTS(ABS_U)
EW_SINTS(NEG_I)
EW_UINTS(NEG_I)
EW_SINTS(SIGN_S)
EW_UINTS(SIGN_U)
EW_SINTS(BNOT_I)
EW_UINTS(BNOT_I)
EW_UNARY(abs_f32, float, float, fabs(X))
EW_UNARY(abs_f64, double, double, fabs(X))
EW_UNARY(neg_f32, float, float, -X)
EW_UNARY(neg_f64, double, double, -X)
/* NaN stays NaN, as numpy.sign. */
EW_UNARY(sign_f32, float, float, X > 0 ? 1.0f : (X < 0 ? -1.0f : X))
EW_UNARY(sign_f64, double, double, X > 0 ? 1.0 : (X < 0 ? -1.0 : X))
EW_UNARY(isnan_f32, float, uint8_t, isnan(X) != 0)
EW_UNARY(isnan_f64, double, uint8_t, isnan(X) != 0)
EW_UNARY(isinf_f32, float, uint8_t, isinf(X) && (X < 0 ? P->a != 0 : P->b != 0))
EW_UNARY(isinf_f64, double, uint8_t, isinf(X) && (X < 0 ? P->a != 0 : P->b != 0))
EW_UNARY(not_b, uint8_t, uint8_t, X == 0)

static const ew_fn abs_tab[IA_DTYPE_COUNT] = {EW_T_ALL(abs)};
static const ew_fn neg_tab[IA_DTYPE_COUNT] = {EW_T_ALL(neg)};
static const ew_fn sign_tab[IA_DTYPE_COUNT] = {EW_T_ALL(sign)};
static const ew_fn bnot_tab[IA_DTYPE_COUNT] = {EW_T_INTS(bnot)};
static const ew_fn isnan_tab[IA_DTYPE_COUNT] = {EW_T_FLOATS(isnan)};
static const ew_fn isinf_tab[IA_DTYPE_COUNT] = {EW_T_FLOATS(isinf)};
static const ew_fn not_tab[IA_DTYPE_COUNT] = {[IA_DTYPE_BOOL] = not_b};

EW_DEFINE_UNARY(Abs, abs_tab, t_, (void)0)
EW_DEFINE_UNARY(Neg, neg_tab, t_, (void)0)
EW_DEFINE_UNARY(Sign, sign_tab, t_, (void)0)
EW_DEFINE_UNARY(Ceil, ceil_tab, t_, (void)0)
EW_DEFINE_UNARY(Floor, floor_tab, t_, (void)0)
EW_DEFINE_UNARY(Round, round_tab, t_, (void)0)
EW_DEFINE_UNARY(Sqrt, sqrt_tab, t_, (void)0)
EW_DEFINE_UNARY(Reciprocal, recip_tab, t_, (void)0)
EW_DEFINE_UNARY(Exp, exp_tab, t_, (void)0)
EW_DEFINE_UNARY(Log, log_tab, t_, (void)0)
EW_DEFINE_UNARY(Sin, sin_tab, t_, (void)0)
EW_DEFINE_UNARY(Cos, cos_tab, t_, (void)0)
EW_DEFINE_UNARY(Tan, tan_tab, t_, (void)0)
EW_DEFINE_UNARY(Asin, asin_tab, t_, (void)0)
EW_DEFINE_UNARY(Acos, acos_tab, t_, (void)0)
EW_DEFINE_UNARY(Atan, atan_tab, t_, (void)0)
EW_DEFINE_UNARY(Sinh, sinh_tab, t_, (void)0)
EW_DEFINE_UNARY(Cosh, cosh_tab, t_, (void)0)
EW_DEFINE_UNARY(Tanh, tanh_tab, t_, (void)0)
EW_DEFINE_UNARY(Asinh, asinh_tab, t_, (void)0)
EW_DEFINE_UNARY(Acosh, acosh_tab, t_, (void)0)
EW_DEFINE_UNARY(Atanh, atanh_tab, t_, (void)0)
EW_DEFINE_UNARY(Erf, erf_tab, t_, (void)0)
EW_DEFINE_UNARY(Sigmoid, sigmoid_tab, t_, (void)0)
EW_DEFINE_UNARY(IsNaN, isnan_tab, IA_DTYPE_BOOL, (void)0)
EW_DEFINE_UNARY(IsInf, isinf_tab, IA_DTYPE_BOOL,
                (p_.a = (double)ia_attr_int(ctx->node, "detect_negative", 1),
                 p_.b = (double)ia_attr_int(ctx->node, "detect_positive", 1)))
EW_DEFINE_UNARY(Not, not_tab, t_, (void)0)
EW_DEFINE_UNARY(BitwiseNot, bnot_tab, t_, (void)0)

// clang-format off
const struct ia_op_def ia_op_Abs = {"", "Abs", 1, 0, Abs_infer, Abs_compute};
const struct ia_op_def ia_op_Neg = {"", "Neg", 1, 0, Neg_infer, Neg_compute};
const struct ia_op_def ia_op_Sign = {"", "Sign", 9, 0, Sign_infer, Sign_compute};
const struct ia_op_def ia_op_Ceil = {"", "Ceil", 1, 0, Ceil_infer, Ceil_compute};
const struct ia_op_def ia_op_Floor = {"", "Floor", 1, 0, Floor_infer, Floor_compute};
const struct ia_op_def ia_op_Round = {"", "Round", 11, 0, Round_infer, Round_compute};
const struct ia_op_def ia_op_Sqrt = {"", "Sqrt", 1, 0, Sqrt_infer, Sqrt_compute};
const struct ia_op_def ia_op_Reciprocal = {"", "Reciprocal", 1, 0, Reciprocal_infer, Reciprocal_compute};
const struct ia_op_def ia_op_Exp = {"", "Exp", 1, 0, Exp_infer, Exp_compute};
const struct ia_op_def ia_op_Log = {"", "Log", 1, 0, Log_infer, Log_compute};
const struct ia_op_def ia_op_Sin = {"", "Sin", 7, 0, Sin_infer, Sin_compute};
const struct ia_op_def ia_op_Cos = {"", "Cos", 7, 0, Cos_infer, Cos_compute};
const struct ia_op_def ia_op_Tan = {"", "Tan", 7, 0, Tan_infer, Tan_compute};
const struct ia_op_def ia_op_Asin = {"", "Asin", 7, 0, Asin_infer, Asin_compute};
const struct ia_op_def ia_op_Acos = {"", "Acos", 7, 0, Acos_infer, Acos_compute};
const struct ia_op_def ia_op_Atan = {"", "Atan", 7, 0, Atan_infer, Atan_compute};
const struct ia_op_def ia_op_Sinh = {"", "Sinh", 9, 0, Sinh_infer, Sinh_compute};
const struct ia_op_def ia_op_Cosh = {"", "Cosh", 9, 0, Cosh_infer, Cosh_compute};
const struct ia_op_def ia_op_Tanh = {"", "Tanh", 1, 0, Tanh_infer, Tanh_compute};
const struct ia_op_def ia_op_Asinh = {"", "Asinh", 9, 0, Asinh_infer, Asinh_compute};
const struct ia_op_def ia_op_Acosh = {"", "Acosh", 9, 0, Acosh_infer, Acosh_compute};
const struct ia_op_def ia_op_Atanh = {"", "Atanh", 9, 0, Atanh_infer, Atanh_compute};
const struct ia_op_def ia_op_Erf = {"", "Erf", 9, 0, Erf_infer, Erf_compute};
const struct ia_op_def ia_op_Sigmoid = {"", "Sigmoid", 1, 0, Sigmoid_infer, Sigmoid_compute};
const struct ia_op_def ia_op_IsNaN = {"", "IsNaN", 9, 0, IsNaN_infer, IsNaN_compute};
const struct ia_op_def ia_op_IsInf = {"", "IsInf", 10, 0, IsInf_infer, IsInf_compute};
const struct ia_op_def ia_op_Not = {"", "Not", 1, 0, Not_infer, Not_compute};
const struct ia_op_def ia_op_BitwiseNot = {"", "BitwiseNot", 18, 0, BitwiseNot_infer, BitwiseNot_compute};
// clang-format on
