//! Pure domain logic: usage records, money, pricing, project rules, sessions and time. No I/O.

pub mod money;
pub mod pricing;
pub mod rules;
pub mod session;
pub mod text;
pub mod timeframe;
pub mod usage;
