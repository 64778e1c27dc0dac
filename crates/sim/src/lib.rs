//! sealbox-sim: The simulated patient side: realistic patient messages sealed to the practice.
//! Built by its own issue; the crate exists so the workspace has its final shape.
