//! Counter-based noise streams keyed by (seed, repeat, trajectory id, step).
//!
//! Every trajectory id owns one ChaCha8 stream (the stream number is the id, the key holds the seed
//! and the repeat index). Step `n` of that stream starts at word `n * words_per_step`, so the noise
//! of any step can be regenerated later without storing it, and results do not depend on how work
//! is spread over threads. The initial state of a trajectory is drawn from a stream of its own
//! (another key domain, [`NoiseKey::initial_stream`]), so drawing it leaves the step noise as is.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::convert::Infallible;

/// Key domain of the per-trajectory noise streams.
const DOMAIN_NOISE: u64 = 0x6e6f_6973_6500_0001;
/// Key domain of the selection stream (levels, survivors).
const DOMAIN_SELECT: u64 = 0x7365_6c65_6374_0002;
/// Key domain of the per-trajectory initial-state streams.
const DOMAIN_INITIAL: u64 = 0x696e_6974_6961_0003;
/// ChaCha's block counter is 64 bits over 16-word blocks: 2^68 words per stream.
const STREAM_WORDS: u128 = 1 << 68;

/// A fresh seed from the operating system's random source, below 2^63 (a run database records
/// seeds as TOML integers): what a run without a given seed uses. [`crate::Error::Entropy`] if
/// the OS gives none.
///
/// ```
/// let s = sampler::seed_from_os()?;
/// assert!(s < 1 << 63);
/// # Ok::<(), sampler::Error>(())
/// ```
pub fn seed_from_os() -> crate::Result<u64> {
    use rand::TryRng;
    rand::rngs::SysRng
        .try_next_u64()
        .map(|x| x >> 1)
        .map_err(crate::Error::Entropy)
}

/// The seed of one run: user seed and repeat index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoiseKey {
    /// User seed.
    pub seed: u64,
    /// Index of the independent repeat.
    pub repeat: u64,
}

impl NoiseKey {
    /// Key for `seed`, repeat `repeat`.
    pub fn new(seed: u64, repeat: u64) -> Self {
        NoiseKey { seed, repeat }
    }

    fn chacha(&self, domain: u64) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&self.repeat.to_le_bytes());
        key[16..24].copy_from_slice(&domain.to_le_bytes());
        ChaCha8Rng::from_seed(key)
    }

    /// The noise stream of trajectory `id`, positioned at step 0.
    pub fn stream(&self, id: u64, words_per_step: u64) -> NoiseRng {
        let mut rng = self.chacha(DOMAIN_NOISE);
        rng.set_stream(id);
        NoiseRng {
            rng,
            words_per_step,
        }
    }

    /// The stream the initial state of the trajectories descending from root trajectory `id`
    /// is drawn from ([`crate::Model::initial_state_from`]): independent of every noise stream
    /// and of the selection stream, positioned at its start, with no per-step word budget.
    ///
    /// ```
    /// use rand::Rng;
    /// use sampler::NoiseKey;
    /// let key = NoiseKey::new(5, 0);
    /// assert_eq!(key.initial_stream(3).next_u64(), key.initial_stream(3).next_u64());
    /// assert_ne!(key.initial_stream(3).next_u64(), key.stream(3, 2).next_u64());
    /// ```
    pub fn initial_stream(&self, id: u64) -> NoiseRng {
        let mut rng = self.chacha(DOMAIN_INITIAL);
        rng.set_stream(id);
        NoiseRng {
            rng,
            words_per_step: 0,
        }
    }

    /// The stream for the sampler's own choices (levels, survivors); independent of all noise.
    pub fn selection(&self) -> ChaCha8Rng {
        self.chacha(DOMAIN_SELECT)
    }
}

/// The random source handed to [`Noise::sample`] (and [`crate::Model::sample_noise`]);
/// implements [`rand::Rng`].
#[derive(Debug, Clone)]
pub struct NoiseRng {
    rng: ChaCha8Rng,
    words_per_step: u64,
}

impl NoiseRng {
    /// Position the stream at the start of step `step`.
    pub fn seek(&mut self, step: u64) -> crate::Result<()> {
        let pos = self.step_start(step)?;
        self.rng.set_word_pos(pos);
        Ok(())
    }

    fn step_start(&self, step: u64) -> crate::Result<u128> {
        let pos = u128::from(step) * u128::from(self.words_per_step);
        if pos + u128::from(self.words_per_step) > STREAM_WORDS {
            return Err(crate::ModelError::StreamExhausted { step }.into());
        }
        Ok(pos)
    }

    /// After sampling the noise of step `step`: check the model stayed within its declared words and
    /// move to the start of step `step + 1` (no-op when it used exactly its budget).
    #[inline]
    pub(crate) fn finish_step(&mut self, step: u64) -> crate::Result<()> {
        let end = (u128::from(step) + 1) * u128::from(self.words_per_step);
        let pos = self.rng.get_word_pos();
        if pos != end {
            if pos > end {
                return Err(crate::ModelError::NoiseOverdraw {
                    declared: self.words_per_step,
                    used: pos - (end - u128::from(self.words_per_step)),
                }
                .into());
            }
            self.rng.set_word_pos(end);
        }
        Ok(())
    }

    /// Current position in 32-bit words.
    pub fn word_pos(&self) -> u128 {
        self.rng.get_word_pos()
    }

    /// Uniform in (0, 1] from one 64-bit draw (2 words).
    #[inline]
    pub fn uniform_open0(&mut self) -> f64 {
        use rand::Rng;
        ((self.rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [0, 1) from one 64-bit draw (2 words).
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        use rand::Rng;
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Fill `out` with independent N(0, 1) samples (Box-Muller); draws exactly
    /// [`normal_words`]`(out.len())` words.
    #[inline]
    pub fn fill_standard_normal(&mut self, out: &mut [f64]) {
        let mut pairs = out.chunks_exact_mut(2);
        for pair in &mut pairs {
            let (a, b) = self.normal_pair();
            pair[0] = a;
            pair[1] = b;
        }
        if let [last] = pairs.into_remainder() {
            *last = self.normal_pair().0;
        }
    }

    /// Two independent N(0, 1) samples (4 words).
    #[inline]
    pub fn normal_pair(&mut self) -> (f64, f64) {
        let u = self.uniform_open0();
        let v = self.uniform();
        let r = (-2.0 * u.ln()).sqrt();
        let (s, c) = (std::f64::consts::TAU * v).sin_cos();
        (r * c, r * s)
    }
}

/// Words drawn by [`NoiseRng::fill_standard_normal`] for `n` samples.
pub const fn normal_words(n: usize) -> u64 {
    4 * (n as u64).div_ceil(2)
}

/// The noise of one step: a buffer the sampler fills from the trajectory's stream before each
/// step and hands to [`crate::Model::step`].
///
/// [`GaussianNoise`] (standard normals) is the common case; [`UniformNoise`] and
/// [`ExponentialNoise`] are the other ready-made kinds, `()` is no noise. A model with another
/// distribution implements this trait for its own buffer type:
///
/// ```
/// use sampler::{Noise, NoiseRng};
/// /// One fair coin flip per value (+1 or -1), one 32-bit word each.
/// struct Coins(Vec<f64>);
/// impl Noise for Coins {
///     fn new(dim: usize) -> Self { Coins(vec![0.0; dim]) }
///     fn words(dim: usize) -> u64 { dim as u64 }
///     fn sample(&mut self, rng: &mut NoiseRng) {
///         use rand::Rng;
///         for x in &mut self.0 { *x = if rng.next_u32() & 1 == 0 { -1.0 } else { 1.0 } }
///     }
/// }
/// let mut c = Coins::new(3);
/// let mut rng = sampler::NoiseKey::new(1, 0).stream(0, Coins::words(3));
/// c.sample(&mut rng);
/// assert!(c.0.iter().all(|x| x.abs() == 1.0));
/// ```
pub trait Noise: Send + Sized {
    /// A buffer of `dim` values (made once per worker, refilled every step).
    ///
    /// ```
    /// use sampler::{GaussianNoise, Noise};
    /// assert_eq!(GaussianNoise::new(3).len(), 3);
    /// ```
    fn new(dim: usize) -> Self;

    /// The 32-bit words [`Noise::sample`] draws for `dim` values, at most. Step `n` uses the words
    /// `[n * w, (n + 1) * w)` of its stream, so any step's noise can be regenerated; drawing more
    /// is reported as [`crate::ModelError::NoiseOverdraw`].
    ///
    /// ```
    /// use sampler::{GaussianNoise, Noise};
    /// assert_eq!(GaussianNoise::words(3), 8); // Box-Muller: 4 words per pair
    /// ```
    fn words(dim: usize) -> u64;

    /// Fill the buffer with the noise of one step from `rng`.
    ///
    /// ```
    /// use sampler::{Noise, NoiseKey, UniformNoise};
    /// let mut u = UniformNoise::new(2);
    /// let mut rng = NoiseKey::new(7, 0).stream(0, UniformNoise::words(2));
    /// u.sample(&mut rng);
    /// assert!(u.iter().all(|x| (0.0..1.0).contains(x)));
    /// ```
    fn sample(&mut self, rng: &mut NoiseRng);
}

/// No noise (a deterministic model): no words drawn.
impl Noise for () {
    fn new(_: usize) -> Self {}
    fn words(_: usize) -> u64 {
        0
    }
    fn sample(&mut self, _: &mut NoiseRng) {}
}

/// Defines a noise buffer of `f64` values that dereferences to `[f64]`.
macro_rules! f64_noise {
    ($(#[$doc:meta])* $name:ident, words: $words:expr, sample: $sample:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name(Box<[f64]>);

        impl std::ops::Deref for $name {
            type Target = [f64];
            #[inline]
            fn deref(&self) -> &[f64] {
                &self.0
            }
        }

        impl std::ops::DerefMut for $name {
            #[inline]
            fn deref_mut(&mut self) -> &mut [f64] {
                &mut self.0
            }
        }

        impl Noise for $name {
            fn new(dim: usize) -> Self {
                $name(vec![0.0; dim].into_boxed_slice())
            }
            fn words(dim: usize) -> u64 {
                let words: fn(usize) -> u64 = $words;
                words(dim)
            }
            #[inline]
            fn sample(&mut self, rng: &mut NoiseRng) {
                let sample: fn(&mut NoiseRng, &mut [f64]) = $sample;
                sample(rng, &mut self.0)
            }
        }
    };
}

f64_noise!(
    /// Independent standard normal values (Box-Muller, [`normal_words`] words): the increments
    /// `xi` of an SDE step `x + f(x) dt + sigma sqrt(dt) xi`. Indexes like a slice.
    GaussianNoise,
    words: normal_words,
    sample: |rng, out| rng.fill_standard_normal(out)
);

f64_noise!(
    /// Independent uniform values in `[0, 1)` (2 words each, [`NoiseRng::uniform`]).
    UniformNoise,
    words: |dim| 2 * dim as u64,
    sample: |rng, out| out.iter_mut().for_each(|x| *x = rng.uniform())
);

f64_noise!(
    /// Independent Exp(1) values `-ln u`, `u` uniform in `(0, 1]` (2 words each,
    /// [`NoiseRng::uniform_open0`]).
    ExponentialNoise,
    words: |dim| 2 * dim as u64,
    sample: |rng, out| out.iter_mut().for_each(|x| *x = -rng.uniform_open0().ln())
);

impl rand::TryRng for NoiseRng {
    type Error = Infallible;
    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.rng.try_next_u32()
    }
    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.rng.try_next_u64()
    }
    #[inline]
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.rng.try_fill_bytes(dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seek_regenerates_any_step() {
        let key = NoiseKey::new(7, 0);
        let w = normal_words(3);
        let mut a = key.stream(5, w);
        let mut seq = vec![[0.0; 3]; 10];
        for (n, buf) in seq.iter_mut().enumerate() {
            a.fill_standard_normal(buf);
            a.finish_step(n as u64).unwrap();
        }
        let mut b = key.stream(5, w);
        b.seek(7).unwrap();
        let mut buf = [0.0; 3];
        b.fill_standard_normal(&mut buf);
        assert_eq!(buf, seq[7]);
        let mut other = key.stream(6, w);
        other.seek(7).unwrap();
        other.fill_standard_normal(&mut buf);
        assert_ne!(buf, seq[7]);
    }

    #[test]
    fn overdraw_is_an_error() {
        let mut a = NoiseKey::new(1, 0).stream(0, 2);
        let _ = a.normal_pair();
        assert!(matches!(
            a.finish_step(0),
            Err(crate::Error::Model(crate::ModelError::NoiseOverdraw { .. }))
        ));
    }

    #[test]
    fn normals_have_unit_variance() {
        let mut a = NoiseKey::new(3, 1).stream(0, 4);
        let n = 200_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n / 2 {
            let (x, y) = a.normal_pair();
            s += x + y;
            s2 += x * x + y * y;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.01, "{var}");
    }
}
