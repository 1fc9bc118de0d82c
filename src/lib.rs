//! zkworker
