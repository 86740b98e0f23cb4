import { add, div, erf, exp, less, mul, neg, type Tensor, where } from "@xlt/graph";

// erf(x) = 2/√π Σ (-1)ⁿ x²ⁿ⁺¹ / (n! (2n+1)): 19 terms reach 4e-18 for |x| < 1.
const TAYLOR = Array.from({ length: 19 }, (_, n) => {
  let factorial = 1;
  for (let k = 2; k <= n; k += 1) factorial *= k;
  return ((-1) ** n / (factorial * (2 * n + 1))) * (2 / Math.sqrt(Math.PI));
});

// erfc(x) ≈ e^{-x²} P(x) / Q(x) for x >= 1 (mpmath's `math2._erfc_mid`, relative error 4e-15 on [1, 6]),
// its coefficients rounded to the nearest double.
const P = [
  1.0000000161203921, 2.127530694629796, 2.228043337739025, 1.4695509105618425, 0.6627591169977078,
  0.20924776504163753, 0.045459713768411264, 0.006306595171071779, 0.0004456025966156042,
];
const Q = [
  1.0, 3.2559100272784893, 4.901943560890324, 4.497147289449801, 2.7845640601891186, 1.2146026030046904,
  0.37647108453729466, 0.08097014963904055, 0.011178148899483546, 0.0007898100383198042,
];

/** `Σ coefficients[i] · xⁱ` by Horner's rule. */
function polynomial(coefficients: readonly number[], x: Tensor): Tensor {
  let sum = mul(x, coefficients[coefficients.length - 1] as number);
  for (let index = coefficients.length - 2; index > 0; index -= 1)
    sum = mul(add(sum, coefficients[index] as number), x);
  return add(sum, coefficients[0] as number);
}

/**
 * The error function to float64 accuracy (about 1e-15) for float64 tensors, built from elementwise
 * ops: ONNX Runtime's CPU `Erf` is float32 only, so `@xlt/graph`'s `erf` of a float64 tensor is good
 * to about 1e-7. A Taylor series for |x| < 1, `1 - e^{-x²}·P(|x|)/Q(|x|)` with the sign of x beyond.
 * Float32 tensors use `erf` itself. Differentiable like any composite.
 */
export function preciseErf(x: Tensor): Tensor {
  if (x.dtype !== "float64") return erf(x);
  const negative = less(x, 0);
  const magnitude = where(negative, neg(x), x);
  const small = less(magnitude, 1);
  // Each branch sees only inputs in its own range, so the unused one stays finite (and so do gradients).
  const inner = where(small, x, 0);
  const taylor = mul(inner, polynomial(TAYLOR, mul(inner, inner)));
  const outer = where(small, 1, magnitude);
  const tail = div(mul(exp(neg(mul(outer, outer))), polynomial(P, outer)), polynomial(Q, outer));
  const large = add(neg(tail), 1);
  return where(small, taylor, where(negative, neg(large), large));
}

/** Exact GELU `x/2 · (1 + erf(x/√2))`, with {@link preciseErf} so that float64 models are float64-exact. */
export function preciseGelu(x: Tensor): Tensor {
  return mul(mul(x, 0.5), add(preciseErf(mul(x, Math.SQRT1_2)), 1));
}
