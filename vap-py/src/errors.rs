//! vap's exception classes: one per `vap_core::ErrorKind`, under `VapError`,
//! each also a subclass of the builtin exception it means, so that
//! `except ValueError` / `except OSError` / `except KeyError` keep working:
//!
//! | class                  | also a                | for |
//! |------------------------|-----------------------|-----|
//! | `ValidationError`      | `ValueError`          | input that failed validation (`.problems`) |
//! | `FormatError`          | `ValueError`          | a file that could not be parsed |
//! | `VapIOError`           | `OSError`             | an OS error on a path (`.errno`, `.strerror`, `.filename` set) |
//! | `NotFoundError`        | `KeyError`            | a room, session, table or recording looked up by id |
//! | `AlreadyExistsError`   | `FileExistsError`     | a session or recording that exists already |
//! | `InvalidArgumentError` | `ValueError`, `TypeError` | a bad argument or option, of a wrong type or out of range |
//! | `VersionError`         | (`VapError` only)     | written by a newer vap |
//! | `InternalError`        | (`VapError` only)     | a bug (a panic caught at the boundary) |
//!
//! `NotFoundError` is a `KeyError`, not a `FileNotFoundError`: it answers a
//! lookup by id in the store (the store being files is an implementation
//! detail); a file that is missing is a `VapIOError` with `errno` `ENOENT`.
//! `KeyError` and `OSError` render `str(e)` their own way (quoted, or
//! `[Errno 2] ...`); these classes keep the plain message, and pickle as it
//! (with `code` and `problems`).
//!
//! Multiple inheritance is not possible with `create_exception!`, so the
//! classes are made at module initialisation by calling `type(name, bases,
//! namespace)`, and kept for the life of the interpreter in a [`PyOnceLock`].
//! Every class carries its `code` ("VAP_VALIDATION", ...) as a class
//! attribute (also set on each instance raised by the native module, with
//! `problems`).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};
use vap_core::{ErrorKind, VapError};

/// One exception class: its name, the builtins it also derives from, its doc.
struct Class {
    kind: ErrorKind,
    name: &'static str,
    builtins: &'static [&'static str],
    doc: &'static str,
}

/// The classes of [`ErrorKind::ALL`], in that order.
const CLASSES: [Class; 9] = [
    Class {
        kind: ErrorKind::Validation,
        name: "ValidationError",
        builtins: &["ValueError"],
        doc: "Input failed validation; `.problems` lists every problem (file, row, field, message). A ValueError.",
    },
    Class {
        kind: ErrorKind::Format,
        name: "FormatError",
        builtins: &["ValueError"],
        doc: "A file could not be parsed. A ValueError.",
    },
    Class {
        kind: ErrorKind::Io,
        name: "VapIOError",
        builtins: &["OSError"],
        doc: "An operating-system I/O error on a path (`.errno`, `.strerror` and `.filename` set). An OSError.",
    },
    Class {
        kind: ErrorKind::NotFound,
        name: "NotFoundError",
        builtins: &["KeyError"],
        doc: "A room, session, table or recording looked up by id does not exist. A KeyError (str() is the plain message); a missing file is a VapIOError.",
    },
    Class {
        kind: ErrorKind::AlreadyExists,
        name: "AlreadyExistsError",
        builtins: &["FileExistsError"],
        doc: "The session (or recording) exists already; pass replace=True to replace a session. A FileExistsError.",
    },
    Class {
        kind: ErrorKind::Version,
        name: "VersionError",
        builtins: &[],
        doc: "Written by a newer vap than this one.",
    },
    Class {
        kind: ErrorKind::InvalidArgument,
        name: "InvalidArgumentError",
        builtins: &["ValueError", "TypeError"],
        doc: "A bad argument (unknown table, id escaping the store, bad option, a value of the wrong type or out of range). A ValueError and a TypeError.",
    },
    Class {
        kind: ErrorKind::Internal,
        name: "InternalError",
        builtins: &[],
        doc: "A bug in vap (a Rust panic caught at the boundary).",
    },
    Class {
        kind: ErrorKind::Cancelled,
        name: "CancelledError",
        builtins: &[],
        doc: "A long call stopped on request before it finished, leaving nothing half-done (Ctrl-C raises KeyboardInterrupt instead, noting where the call stopped).",
    },
];

/// `VapError` and the class of each kind (in [`ErrorKind::ALL`] order).
struct Classes {
    base: Py<PyType>,
    by_kind: Vec<Py<PyType>>,
}

static TYPES: PyOnceLock<Classes> = PyOnceLock::new();

fn make_class<'py>(
    py: Python<'py>,
    name: &str,
    bases: Vec<Bound<'py, PyAny>>,
    namespace: Bound<'py, PyDict>,
) -> PyResult<Py<PyType>> {
    let type_ = py.import("builtins")?.getattr("type")?;
    let bases = PyTuple::new(py, bases)?;
    Ok(type_
        .call1((name, bases, namespace))?
        .cast_into::<PyType>()?
        .unbind())
}

fn build(py: Python<'_>) -> PyResult<Classes> {
    let builtins = py.import("builtins")?;
    let base_exception = builtins.getattr("BaseException")?;
    let plain_str = base_exception.getattr("__str__")?;
    let plain_reduce = base_exception.getattr("__reduce__")?;
    let ns = PyDict::new(py);
    ns.set_item("__module__", "vap")?;
    ns.set_item(
        "__doc__",
        "Base class of every error vap raises: `.code` is a stable code (one of \
         `vap.ERROR_CODES`), `.problems` the problems of a validation error.",
    )?;
    let base = make_class(py, "VapError", vec![builtins.getattr("Exception")?], ns)?;
    let mut by_kind = Vec::with_capacity(CLASSES.len());
    for (c, kind) in CLASSES.iter().zip(ErrorKind::ALL) {
        debug_assert_eq!(c.kind, kind);
        let mut bases = vec![base.bind(py).clone().into_any()];
        for b in c.builtins {
            bases.push(builtins.getattr(*b)?);
        }
        let ns = PyDict::new(py);
        ns.set_item("__module__", "vap")?;
        ns.set_item("__doc__", c.doc)?;
        ns.set_item("code", kind.code())?;
        if !c.builtins.is_empty() {
            // KeyError quotes its message, OSError renders errno/strerror:
            // keep the plain message. OSError also pickles as (errno,
            // strerror, filename) once `filename` is set: pickle the message.
            ns.set_item("__str__", &plain_str)?;
            ns.set_item("__reduce__", &plain_reduce)?;
        }
        by_kind.push(make_class(py, c.name, bases, ns)?);
    }
    Ok(Classes { base, by_kind })
}

fn classes(py: Python<'_>) -> PyResult<&'static Classes> {
    TYPES.get_or_try_init(py, || build(py))
}

/// Converts a core error to the matching Python exception, with `.code` and
/// `.problems` (the problems of a validation error, empty for the others);
/// an I/O error also gets `errno`, `strerror` and `filename`.
pub fn to_py(py: Python<'_>, e: VapError) -> PyErr {
    let msg = e.to_string();
    let kind = e.kind();
    let cls = match classes(py) {
        Ok(c) => c.by_kind[ErrorKind::ALL
            .iter()
            .position(|k| *k == kind)
            .expect("every kind is in ErrorKind::ALL")]
        .bind(py)
        .clone(),
        // Cannot happen once the module is initialised (the classes are made
        // there); never hide the error itself.
        Err(_) => return pyo3::exceptions::PyRuntimeError::new_err(msg),
    };
    let err = PyErr::from_type(cls, (msg,));
    let value = err.value(py);
    let _ = value.setattr("code", kind.code());
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
    if let VapError::Io { path, source } = &e {
        let _ = value.setattr("errno", source.raw_os_error());
        // "No such file or directory", without Rust's " (os error 2)".
        let text = source.to_string();
        let strerror = match text.rfind(" (os error ") {
            Some(i) => &text[..i],
            None => &text,
        };
        let _ = value.setattr("strerror", strerror);
        let _ = value.setattr("filename", path.display().to_string());
    }
    err
}

/// Adds `VapError`, its subclasses and `ERROR_CODES` (a tuple, in
/// [`ErrorKind::ALL`] order) to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let c = classes(py)?;
    m.add("VapError", c.base.bind(py))?;
    for (spec, cls) in CLASSES.iter().zip(&c.by_kind) {
        m.add(spec.name, cls.bind(py))?;
    }
    m.add("ERROR_CODES", PyTuple::new(py, ErrorKind::codes())?)?;
    Ok(())
}
