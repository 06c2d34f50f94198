//! Between Python values and TOML / JSON values (configs, model parameters, reports).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// `v` as a TOML value (`None` for Python's `None`: the key is left out); `key` names it in
/// errors.
pub(crate) fn to_toml(v: &Bound<'_, PyAny>, key: &str) -> PyResult<Option<toml::Value>> {
    if v.is_none() {
        return Ok(None);
    }
    let value =
        if v.is_instance_of::<PyBool>() {
            toml::Value::Boolean(v.extract()?)
        } else if v.is_instance_of::<PyInt>() {
            toml::Value::Integer(v.extract().map_err(|_| {
                PyTypeError::new_err(format!("{key}: integer out of the 64-bit range"))
            })?)
        } else if v.is_instance_of::<PyFloat>() {
            toml::Value::Float(v.extract()?)
        } else if v.is_instance_of::<PyString>() {
            toml::Value::String(v.extract()?)
        } else if let Ok(d) = v.cast::<PyDict>() {
            toml::Value::Table(table(d, key)?)
        } else if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
            let mut items = Vec::new();
            for (i, item) in v.try_iter()?.enumerate() {
                if let Some(x) = to_toml(&item?, &format!("{key}[{i}]"))? {
                    items.push(x);
                }
            }
            toml::Value::Array(items)
        } else if v.hasattr("__fspath__")? {
            let s: std::path::PathBuf = v.extract()?;
            toml::Value::String(s.to_string_lossy().into_owned())
        } else if let Ok(x) = v.call_method0("__float__").and_then(|f| f.extract::<f64>()) {
            // numpy scalars
            if v.hasattr("__index__")? {
                toml::Value::Integer(v.call_method0("__index__")?.extract()?)
            } else {
                toml::Value::Float(x)
            }
        } else {
            return Err(PyTypeError::new_err(format!(
                "{key}: cannot be written as TOML (a {})",
                v.get_type().name()?
            )));
        };
    Ok(Some(value))
}

/// A dict as a TOML table (`key`: its dotted name, "" at the top).
pub(crate) fn table(d: &Bound<'_, PyDict>, key: &str) -> PyResult<toml::Table> {
    let mut t = toml::Table::new();
    for (k, v) in d.iter() {
        let name: String = k
            .extract()
            .map_err(|_| PyTypeError::new_err(format!("{key}: keys must be strings")))?;
        let dotted = if key.is_empty() {
            name.clone()
        } else {
            format!("{key}.{name}")
        };
        if let Some(x) = to_toml(&v, &dotted)? {
            t.insert(name, x);
        }
    }
    Ok(t)
}

/// A serde value as a Python object (through `json.loads`).
pub(crate) fn to_python<'py, T: serde::Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}
