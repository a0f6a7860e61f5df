//! Devices. CUDA is discovered at run time by the `cuda` backend; a CUDA device in a
//! build or on a machine without one is a typed error, never a panic.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Device {
    #[default]
    Cpu,
    Cuda(usize),
}

impl Device {
    pub fn parse(s: &str) -> Option<(Device, bool)> {
        // Returns the device and whether an explicit index was given ("cuda" vs "cuda:0").
        let s = s.trim();
        if s == "cpu" {
            return Some((Device::Cpu, false));
        }
        if s == "cuda" {
            return Some((Device::Cuda(0), false));
        }
        if let Some(rest) = s.strip_prefix("cuda:") {
            return rest.parse().ok().map(|i| (Device::Cuda(i), true));
        }
        if s == "cpu:0" {
            return Some((Device::Cpu, true));
        }
        None
    }
    pub fn is_cuda(self) -> bool {
        matches!(self, Device::Cuda(_))
    }
    pub fn type_name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda(_) => "cuda",
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Cuda(i) => write!(f, "cuda:{}", i),
        }
    }
}
