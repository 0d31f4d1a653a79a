//! The DfuSe host's tests in one binary (one link for every test file): requests, status, descriptors, layouts,
//! plans, the host against a scripted device, operations and traces.

mod common;
mod descriptor;
mod host;
mod layout;
mod ops;
mod plan;
mod request;
mod status;
mod trace;
