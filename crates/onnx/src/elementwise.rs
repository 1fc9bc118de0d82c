//! Element-wise functions of one tensor, as ONNX defines them in floats: what becomes a
//! [`zkw_model::ops::Table`] at quantization.
//!
//! A chain of element-wise ONNX nodes over one source tensor — `x · sigmoid(x)`,
//! `0.5·x·(1 + erf(x/√2))`, `x / (1 + |x|)`, a comparison with a constant — is one [`Expr`] in
//! `x`, and so one table: the whole chain costs one lookup per element, and its only rounding
//! is the table's. Transcendental functions come from `libm` (a port of musl's), so an import
//! gives the same table on every machine.

use std::fmt;

/// An element-wise float function of one variable `x`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// The source tensor's element.
    X,
    /// A constant.
    Const(f64),
    /// A unary function.
    Unary(Unary, Box<Expr>),
    /// A binary function.
    Binary(Binary, Box<Expr>, Box<Expr>),
    /// `values[round(e)]` (a negative index counts from the end; outside: not a number): ONNX
    /// Gather from a constant vector at a computed index.
    Gather(Vec<f64>, Box<Expr>),
}

/// Unary element-wise ONNX ops (with their attributes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unary {
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
    /// The error function.
    Erf,
    /// `e^x`.
    Exp,
    /// `ln x`.
    Log,
    /// `√x`.
    Sqrt,
    /// `1 / x`.
    Reciprocal,
    /// `|x|`.
    Abs,
    /// `-x`.
    Neg,
    /// `-1, 0, 1`.
    Sign,
    /// Round up.
    Ceil,
    /// Round down.
    Floor,
    /// Round half to even.
    Round,
    /// `max(0, x)`.
    Relu,
    /// `sin x`.
    Sin,
    /// `cos x`.
    Cos,
    /// `tan x`.
    Tan,
    /// `asin x`.
    Asin,
    /// `acos x`.
    Acos,
    /// `atan x`.
    Atan,
    /// `sinh x`.
    Sinh,
    /// `cosh x`.
    Cosh,
    /// `asinh x`.
    Asinh,
    /// `acosh x`.
    Acosh,
    /// `atanh x`.
    Atanh,
    /// `ln(1 + e^x)`.
    Softplus,
    /// `x / (1 + |x|)`.
    Softsign,
    /// Boolean not: `x == 0`.
    Not,
    /// `x < 0 ? α(e^x - 1) : x`.
    Elu(f64),
    /// `γ · (x ≤ 0 ? α(e^x - 1) : x)`.
    Selu(f64, f64),
    /// `max(0, x) + min(0, α(e^(x/α) - 1))`.
    Celu(f64),
    /// `x < 0 ? αx : x`.
    LeakyRelu(f64),
    /// `max(0, min(1, αx + β))`.
    HardSigmoid(f64, f64),
    /// `x · max(0, min(1, x/6 + 1/2))`.
    HardSwish,
    /// `x > α ? x : 0`.
    ThresholdedRelu(f64),
    /// `x · Φ(x)`, exactly (`false`) or with the tanh approximation (`true`).
    Gelu(bool),
    /// `x · tanh(softplus(x))`.
    Mish,
    /// `min(max(x, lo), hi)`.
    Clip(f64, f64),
    /// A cast to an integer type of the given range (truncation, then saturation).
    CastInt(f64, f64),
    /// A cast to bool: `x ≠ 0`.
    CastBool,
}

/// Binary element-wise ONNX ops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Binary {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a · b`.
    Mul,
    /// `a / b`.
    Div,
    /// `a^b`.
    Pow,
    /// `min(a, b)`.
    Min,
    /// `max(a, b)`.
    Max,
    /// `a < b`.
    Less,
    /// `a ≤ b`.
    LessOrEqual,
    /// `a > b`.
    Greater,
    /// `a ≥ b`.
    GreaterOrEqual,
    /// `a = b`.
    Equal,
    /// Boolean and.
    And,
    /// Boolean or.
    Or,
    /// Boolean exclusive or.
    Xor,
}

fn truth(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

impl Unary {
    /// The function at `x`.
    pub fn apply(self, x: f64) -> f64 {
        use Unary::*;
        match self {
            Sigmoid => 1.0 / (1.0 + libm::exp(-x)),
            Tanh => libm::tanh(x),
            Erf => libm::erf(x),
            Exp => libm::exp(x),
            Log => libm::log(x),
            Sqrt => libm::sqrt(x),
            Reciprocal => 1.0 / x,
            Abs => x.abs(),
            Neg => -x,
            Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            Ceil => x.ceil(),
            Floor => x.floor(),
            Round => x.round_ties_even(),
            Relu => x.max(0.0),
            Sin => libm::sin(x),
            Cos => libm::cos(x),
            Tan => libm::tan(x),
            Asin => libm::asin(x),
            Acos => libm::acos(x),
            Atan => libm::atan(x),
            Sinh => libm::sinh(x),
            Cosh => libm::cosh(x),
            Asinh => libm::asinh(x),
            Acosh => libm::acosh(x),
            Atanh => libm::atanh(x),
            Softplus => {
                // ln(1 + e^x) without overflow for large x.
                if x > 30.0 {
                    x
                } else {
                    libm::log1p(libm::exp(x))
                }
            }
            Softsign => x / (1.0 + x.abs()),
            Not => truth(x == 0.0),
            Elu(a) => {
                if x < 0.0 {
                    a * libm::expm1(x)
                } else {
                    x
                }
            }
            Selu(a, g) => g * if x <= 0.0 { a * libm::expm1(x) } else { x },
            Celu(a) => x.max(0.0) + (a * libm::expm1(x / a)).min(0.0),
            LeakyRelu(a) => {
                if x < 0.0 {
                    a * x
                } else {
                    x
                }
            }
            HardSigmoid(a, b) => (a * x + b).clamp(0.0, 1.0),
            HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            ThresholdedRelu(a) => {
                if x > a {
                    x
                } else {
                    0.0
                }
            }
            Gelu(false) => 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
            Gelu(true) => {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                0.5 * x * (1.0 + libm::tanh(c * (x + 0.044715 * x * x * x)))
            }
            Mish => x * libm::tanh(Softplus.apply(x)),
            Clip(lo, hi) => x.max(lo).min(hi),
            CastInt(lo, hi) => x.trunc().clamp(lo, hi),
            CastBool => truth(x != 0.0),
        }
    }

    fn name(self) -> String {
        use Unary::*;
        match self {
            Elu(a) => format!("elu[{a}]"),
            Selu(a, g) => format!("selu[{a}, {g}]"),
            Celu(a) => format!("celu[{a}]"),
            LeakyRelu(a) => format!("leaky_relu[{a}]"),
            HardSigmoid(a, b) => format!("hard_sigmoid[{a}, {b}]"),
            ThresholdedRelu(a) => format!("thresholded_relu[{a}]"),
            Gelu(t) => if t { "gelu_tanh" } else { "gelu" }.into(),
            Clip(lo, hi) => format!("clip[{lo}, {hi}]"),
            CastInt(lo, hi) => format!("cast_int[{lo}, {hi}]"),
            other => {
                let s = format!("{other:?}");
                let mut out = String::new();
                for (i, c) in s.chars().enumerate() {
                    if c.is_uppercase() && i > 0 {
                        out.push('_');
                    }
                    out.push(c.to_ascii_lowercase());
                }
                out
            }
        }
    }
}

impl Binary {
    /// The function at `(a, b)`.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        use Binary::*;
        match self {
            Add => a + b,
            Sub => a - b,
            Mul => a * b,
            Div => a / b,
            Pow => libm::pow(a, b),
            Min => a.min(b),
            Max => a.max(b),
            Less => truth(a < b),
            LessOrEqual => truth(a <= b),
            Greater => truth(a > b),
            GreaterOrEqual => truth(a >= b),
            Equal => truth(a == b),
            And => truth(a != 0.0 && b != 0.0),
            Or => truth(a != 0.0 || b != 0.0),
            Xor => truth((a != 0.0) != (b != 0.0)),
        }
    }
}

impl Expr {
    /// `f(self)`.
    pub fn unary(self, f: Unary) -> Expr {
        Expr::Unary(f, Box::new(self))
    }

    /// `f(self, other)`.
    pub fn binary(self, f: Binary, other: Expr) -> Expr {
        Expr::Binary(f, Box::new(self), Box::new(other))
    }

    /// The function at `x`.
    pub fn eval(&self, x: f64) -> f64 {
        match self {
            Expr::X => x,
            Expr::Const(c) => *c,
            Expr::Unary(f, a) => f.apply(a.eval(x)),
            Expr::Binary(f, a, b) => f.apply(a.eval(x), b.eval(x)),
            Expr::Gather(values, e) => {
                let n = values.len() as f64;
                let i = e.eval(x).round();
                let i = if i < 0.0 { i + n } else { i };
                if (0.0..n).contains(&i) {
                    values[i as usize]
                } else {
                    f64::NAN
                }
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::X => write!(f, "x"),
            Expr::Const(c) => write!(f, "{c}"),
            Expr::Unary(u, a) => write!(f, "{}({a})", u.name()),
            Expr::Binary(b, x, y) => write!(f, "{}({x}, {y})", format!("{b:?}").to_lowercase()),
            Expr::Gather(values, e) => write!(f, "gather[{}]({e})", values.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_chains_evaluate_and_print() {
        // x · sigmoid(x) (SiLU).
        let silu = Expr::X.binary(Binary::Mul, Expr::X.unary(Unary::Sigmoid));
        assert!((silu.eval(1.0) - 0.731_058_578_630_004_9).abs() < 1e-12);
        assert_eq!(silu.to_string(), "mul(x, sigmoid(x))");
        let e = Expr::X.unary(Unary::LeakyRelu(0.5));
        assert_eq!(e.eval(-2.0), -1.0);
        assert_eq!(e.to_string(), "leaky_relu[0.5](x)");
        assert_eq!(Expr::X.unary(Unary::HardSwish).to_string(), "hard_swish(x)");
        assert_eq!(Unary::Round.apply(2.5), 2.0);
        assert_eq!(Unary::Round.apply(-0.5), 0.0);
        assert_eq!(Unary::CastInt(-128.0, 127.0).apply(-300.7), -128.0);
        assert_eq!(Binary::Xor.apply(1.0, 1.0), 0.0);
    }
}
