//! Seeded simulations of the registry protocol (to come).
