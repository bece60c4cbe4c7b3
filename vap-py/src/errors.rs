//! vap's exception classes: one per `vap_core::ErrorKind`, under `VapError`.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use vap_core::{ErrorKind, VapError};

create_exception!(
    vap,
    PyVapError,
    PyException,
    "Base class of every error vap raises."
);
create_exception!(
    vap,
    ValidationError,
    PyVapError,
    "Input failed validation; `.problems` lists every problem (file, row, field, message)."
);
create_exception!(vap, FormatError, PyVapError, "A file could not be parsed.");
create_exception!(
    vap,
    VapIOError,
    PyVapError,
    "An operating-system I/O error on a path."
);
create_exception!(
    vap,
    NotFoundError,
    PyVapError,
    "A room, session or table does not exist."
);
create_exception!(
    vap,
    AlreadyExistsError,
    PyVapError,
    "The session exists already; pass replace=True."
);
create_exception!(
    vap,
    VersionError,
    PyVapError,
    "Written by a newer vap than this one."
);
create_exception!(
    vap,
    InvalidArgumentError,
    PyVapError,
    "A bad argument (unknown table, id escaping the store, bad config)."
);
create_exception!(
    vap,
    InternalError,
    PyVapError,
    "A bug in vap (a Rust panic caught at the boundary)."
);

/// Converts a core error to the matching Python exception, with `.code` and,
/// for validation errors, `.problems`.
pub fn to_py(py: Python<'_>, e: VapError) -> PyErr {
    let msg = e.to_string();
    let err = match e.kind() {
        ErrorKind::Validation => ValidationError::new_err(msg),
        ErrorKind::Format => FormatError::new_err(msg),
        ErrorKind::Io => VapIOError::new_err(msg),
        ErrorKind::NotFound => NotFoundError::new_err(msg),
        ErrorKind::AlreadyExists => AlreadyExistsError::new_err(msg),
        ErrorKind::Version => VersionError::new_err(msg),
        ErrorKind::InvalidArgument => InvalidArgumentError::new_err(msg),
        ErrorKind::Internal => InternalError::new_err(msg),
    };
    let value = err.value(py);
    let _ = value.setattr("code", e.kind().code());
    let problems = PyList::empty(py);
    for p in e.problems() {
        let d = PyDict::new(py);
        let _ = d.set_item("file", &p.file);
        let _ = d.set_item("row", p.row);
        let _ = d.set_item("field", p.field.as_deref());
        let _ = d.set_item("message", &p.message);
        let _ = problems.append(d);
    }
    let _ = value.setattr("problems", problems);
    err
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("VapError", py.get_type::<PyVapError>())?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    m.add("FormatError", py.get_type::<FormatError>())?;
    m.add("VapIOError", py.get_type::<VapIOError>())?;
    m.add("NotFoundError", py.get_type::<NotFoundError>())?;
    m.add("AlreadyExistsError", py.get_type::<AlreadyExistsError>())?;
    m.add("VersionError", py.get_type::<VersionError>())?;
    m.add(
        "InvalidArgumentError",
        py.get_type::<InvalidArgumentError>(),
    )?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}
