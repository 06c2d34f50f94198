//! Built-in models, selected by `[model] name = "..."` in a config.

mod allen_cahn;
mod brownian;
mod doublewell1d;
mod doublewell2d;
mod exponential;
mod ou;
mod randomwalk;

pub use allen_cahn::{AllenCahn, AllenCahnNoise, PointNoise};
pub use brownian::Brownian;
pub use doublewell1d::DoubleWell1d;
pub use doublewell2d::DoubleWell2d;
pub use exponential::Exponential;
pub use ou::Ou;
pub use randomwalk::RandomWalk;

use crate::{Error, Model, Result};
use serde::{Deserialize, Serialize};

/// The names of the built-in models.
pub const NAMES: &[&str] = &[
    "brownian",
    "ou",
    "doublewell1d",
    "doublewell2d",
    "exponential",
    "randomwalk",
    "allen_cahn",
];

/// A built-in model with its parameters (the `[model]` table of a config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum BuiltinModel {
    /// [`Brownian`].
    Brownian(Brownian),
    /// [`Ou`].
    Ou(Ou),
    /// [`DoubleWell1d`].
    Doublewell1d(DoubleWell1d),
    /// [`DoubleWell2d`].
    Doublewell2d(DoubleWell2d),
    /// [`Exponential`].
    Exponential(Exponential),
    /// [`RandomWalk`].
    Randomwalk(RandomWalk),
    /// [`AllenCahn`].
    #[serde(rename = "allen_cahn")]
    AllenCahn(AllenCahn),
}

/// Something to do with a concrete model type (a generic callback over [`BuiltinModel`]).
pub trait ModelVisitor {
    /// Result of the visit.
    type Output;
    /// Called with the concrete model.
    fn visit<M: Model>(self, model: &M) -> Self::Output
    where
        M::State: crate::store::StateBytes + PartialEq + crate::ArrayState;
}

impl BuiltinModel {
    /// The model's name as written in configs.
    pub fn name(&self) -> &'static str {
        match self {
            BuiltinModel::Brownian(_) => "brownian",
            BuiltinModel::Ou(_) => "ou",
            BuiltinModel::Doublewell1d(_) => "doublewell1d",
            BuiltinModel::Doublewell2d(_) => "doublewell2d",
            BuiltinModel::Exponential(_) => "exponential",
            BuiltinModel::Randomwalk(_) => "randomwalk",
            BuiltinModel::AllenCahn(_) => "allen_cahn",
        }
    }

    /// Check the parameters, naming the offending key.
    pub fn validate(&self) -> Result<()> {
        match self {
            BuiltinModel::Brownian(m) => m.validate(),
            BuiltinModel::Ou(m) => m.validate(),
            BuiltinModel::Doublewell1d(m) => m.validate(),
            BuiltinModel::Doublewell2d(m) => m.validate(),
            BuiltinModel::Exponential(m) => m.validate(),
            BuiltinModel::Randomwalk(m) => m.validate(),
            BuiltinModel::AllenCahn(m) => m.validate(),
        }
    }

    /// Call `visitor` with the concrete model (monomorphised: no dynamic dispatch per step).
    pub fn visit<V: ModelVisitor>(&self, visitor: V) -> V::Output {
        match self {
            BuiltinModel::Brownian(m) => visitor.visit(m),
            BuiltinModel::Ou(m) => visitor.visit(m),
            BuiltinModel::Doublewell1d(m) => visitor.visit(m),
            BuiltinModel::Doublewell2d(m) => visitor.visit(m),
            BuiltinModel::Exponential(m) => visitor.visit(m),
            BuiltinModel::Randomwalk(m) => visitor.visit(m),
            BuiltinModel::AllenCahn(m) => visitor.visit(m),
        }
    }
}

pub(crate) fn check_finite(key: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::config(key, format!("must be finite, got {v}")))
    }
}

pub(crate) fn check_positive(key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::config(key, format!("must be > 0, got {v}")))
    }
}
