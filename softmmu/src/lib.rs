//! softmmu
