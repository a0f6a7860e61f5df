//! Autograd bindings: grad_fn nodes, hook handles, backward/grad, grad mode.

use crate::convert::py_err_to_core;
use std::sync::{Arc, Weak};

use ferrotorch::autograd::{self, Node};
use ferrotorch::Tensor;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::convert::{to_tensor, IntoPy};
use crate::tensor::{PyTensor, TensorObj};

pub enum NodeRef {
    Strong(Arc<Node>),
    #[allow(dead_code)]
    Weak(Weak<Node>),
}

/// A graph node (`tensor.grad_fn`). As in PyTorch each op's nodes have their own class
/// (`type(y.grad_fn).__name__ == "MulBackward0"`): a Python subclass of `Node` per node
/// name, made on first use and cached. Rejected: one class with a `__class__` property
/// (isinstance and `type()` would disagree).
#[pyclass(frozen, subclass, name = "Node", module = "ferrotorch.autograd.graph")]
pub struct PyNode {
    pub n: NodeRef,
}

thread_local! {
    /// The node `Node.__new__` wraps: set by `node_object` just before it calls the
    /// per-name subclass (PyO3 allocates a subclass instance only through `__new__`).
    static PENDING: std::cell::RefCell<Option<Arc<Node>>> = const { std::cell::RefCell::new(None) };
}

static NODE_CLASSES: pyo3::sync::PyOnceLock<std::sync::Mutex<std::collections::HashMap<String, Py<pyo3::types::PyType>>>> =
    pyo3::sync::PyOnceLock::new();

/// The Python object for a graph node: an instance of its name's `Node` subclass.
pub fn node_object(py: Python<'_>, n: Arc<Node>) -> PyResult<Py<PyAny>> {
    let name = n.name().rsplit("::").next().unwrap_or("Node").to_string();
    let classes = NODE_CLASSES.get_or_init(py, || std::sync::Mutex::new(std::collections::HashMap::new()));
    let cached = classes.lock().unwrap_or_else(|e| e.into_inner()).get(&name).map(|c| c.clone_ref(py));
    let cls = match cached {
        Some(c) => c,
        None => {
            let base = py.get_type::<PyNode>();
            let ns = pyo3::types::PyDict::new(py);
            // PyTorch's node classes print as <class 'MulBackward0'>.
            ns.set_item("__module__", "builtins")?;
            ns.set_item("__slots__", PyTuple::empty(py))?;
            let c = py
                .get_type::<pyo3::types::PyType>()
                .call1((name.as_str(), (base,), ns))?
                .cast_into::<pyo3::types::PyType>()?
                .unbind();
            classes.lock().unwrap_or_else(|e| e.into_inner()).insert(name, c.clone_ref(py));
            c
        }
    };
    PENDING.with(|p| *p.borrow_mut() = Some(n));
    let r = cls.bind(py).call0();
    PENDING.with(|p| p.borrow_mut().take());
    Ok(r?.unbind())
}

impl PyNode {
    fn node(&self) -> PyResult<Arc<Node>> {
        match &self.n {
            NodeRef::Strong(n) => Ok(n.clone()),
            NodeRef::Weak(w) => w.upgrade().ok_or_else(|| PyRuntimeError::new_err("node was freed")),
        }
    }
}

#[pymethods]
impl PyNode {
    #[new]
    fn py_new() -> PyResult<PyNode> {
        match PENDING.with(|p| p.borrow_mut().take()) {
            Some(n) => Ok(PyNode { n: NodeRef::Strong(n) }),
            None => Err(pyo3::exceptions::PyTypeError::new_err("cannot create 'Node' instances: nodes are made by operations on tensors")),
        }
    }
    fn name(&self) -> PyResult<String> {
        Ok(self.node()?.name().to_string())
    }
    #[getter]
    fn next_functions(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        let n = self.node()?;
        let items: Vec<Py<PyAny>> = n
            .next_edges
            .iter()
            .map(|e| -> PyResult<Py<PyAny>> {
                match e {
                    None => Ok((py.None(), 0usize).into_pyobject(py)?.into_any().unbind()),
                    Some(e) => Ok((node_object(py, e.node.clone())?, e.input_nr).into_pyobject(py)?.into_any().unbind()),
                }
            })
            .collect::<PyResult<_>>()?;
        Ok(PyTuple::new(py, items)?.unbind())
    }
    #[getter]
    fn variable(&self) -> PyResult<Option<TensorObj>> {
        Ok(self.node()?.variable().map(PyTensor::new))
    }
    fn __repr__(&self) -> PyResult<String> {
        let n = self.node()?;
        Ok(format!("<{} object at {:#x}>", n.name(), Arc::as_ptr(&n) as usize))
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        match other.cast::<PyNode>() {
            Ok(o) => Ok(Arc::ptr_eq(&self.node()?, &o.get().node()?)),
            Err(_) => Ok(false),
        }
    }
    fn __hash__(&self) -> PyResult<isize> {
        Ok(Arc::as_ptr(&self.node()?) as isize)
    }
}

#[pyclass(frozen, name = "RemovableHandle", module = "ferrotorch.utils.hooks")]
pub struct RemovableHandle {
    pub t: Tensor,
    pub id: u64,
}

#[pymethods]
impl RemovableHandle {
    fn remove(&self) {
        self.t.remove_hook(self.id);
    }
}

pub fn tensor_list(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Tensor>> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(vec![t.get().t.clone()]);
    }
    obj.try_iter()?.map(|x| to_tensor(&x?)).collect()
}

pub fn tensor_list_opt(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<Tensor>>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => Ok(Some(tensor_list(o)?)),
    }
}

pub fn opt_tensor_list(obj: Option<&Bound<'_, PyAny>>, n: usize) -> PyResult<Vec<Option<Tensor>>> {
    match obj {
        None => Ok(vec![None; n]),
        Some(o) if o.is_none() => Ok(vec![None; n]),
        Some(o) => {
            if let Ok(t) = o.cast::<PyTensor>() {
                return Ok(vec![Some(t.get().t.clone())]);
            }
            o.try_iter()?
                .map(|x| {
                    let x = x?;
                    if x.is_none() { Ok(None) } else { Ok(Some(to_tensor(&x)?)) }
                })
                .collect()
        }
    }
}

#[pyfunction]
#[pyo3(signature = (tensors, grad_tensors=None, retain_graph=None, create_graph=false, inputs=None))]
pub fn _backward(py: Python<'_>, tensors: &Bound<'_, PyAny>, grad_tensors: Option<&Bound<'_, PyAny>>, retain_graph: Option<bool>, create_graph: bool, inputs: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let ts = tensor_list(tensors)?;
    let gs = opt_tensor_list(grad_tensors, ts.len())?;
    let ins = tensor_list_opt(inputs)?;
    let retain = retain_graph.unwrap_or(create_graph);
    py.detach(|| autograd::backward(&ts, &gs, retain, create_graph, ins.as_deref())).py()
}

#[pyfunction]
#[pyo3(signature = (outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=false, allow_unused=false))]
pub fn _grad(py: Python<'_>, outputs: &Bound<'_, PyAny>, inputs: &Bound<'_, PyAny>, grad_outputs: Option<&Bound<'_, PyAny>>, retain_graph: Option<bool>, create_graph: bool, allow_unused: bool) -> PyResult<Py<PyTuple>> {
    let outs = tensor_list(outputs)?;
    let ins = tensor_list(inputs)?;
    let gs = opt_tensor_list(grad_outputs, outs.len())?;
    let retain = retain_graph.unwrap_or(create_graph);
    let r = py.detach(|| autograd::grad(&outs, &ins, &gs, retain, create_graph, allow_unused)).py()?;
    let items: Vec<Py<PyAny>> = r
        .into_iter()
        .map(|g| -> PyResult<Py<PyAny>> {
            match g {
                None => Ok(py.None()),
                Some(g) => Ok(PyTensor::new(g).into_pyobject(py)?.into_any().unbind()),
            }
        })
        .collect::<PyResult<_>>()?;
    Ok(PyTuple::new(py, items)?.unbind())
}

#[pyfunction]
pub fn is_grad_enabled() -> bool {
    autograd::is_grad_enabled()
}
#[pyfunction]
pub fn _set_grad_enabled(on: bool) {
    autograd::set_grad_enabled(on)
}
#[pyfunction]
pub fn is_inference_mode_enabled() -> bool {
    autograd::is_inference_mode()
}
#[pyfunction]
pub fn _set_inference_mode(on: bool) {
    autograd::set_inference_mode(on)
}
#[pyfunction]
pub fn _set_anomaly_enabled(on: bool) {
    autograd::set_anomaly_enabled(on)
}
#[pyfunction]
pub fn is_anomaly_enabled() -> bool {
    autograd::anomaly_enabled()
}


/// Record a node for a Python `autograd.Function`: `backward(*grads)` (a Python callable)
/// returns one gradient (or None) per tensor input. Missing output gradients are
/// materialised as zeros, as PyTorch does by default.
#[pyfunction]
pub fn _record_function(name: String, inputs: &Bound<'_, PyAny>, outputs: &Bound<'_, PyAny>, backward: Py<PyAny>) -> PyResult<()> {
    let ins = tensor_list(inputs)?;
    let outs = tensor_list(outputs)?;
    let nin = ins.len();
    let in_refs: Vec<&Tensor> = ins.iter().collect();
    let out_refs: Vec<&Tensor> = outs.iter().collect();
    autograd::record_named(name, &in_refs, &out_refs, move |_ctx, grads| {
        Python::attach(|py| -> ferrotorch::Result<Vec<Option<Tensor>>> {
            let mut args: Vec<Py<PyAny>> = Vec::with_capacity(grads.len());
            // An output whose gradient is undefined passes None: the Python side materialises
            // zeros unless the Function called ctx.set_materialize_grads(False).
            for g in grads.iter() {
                args.push(match g {
                    Some(g) => PyTensor::new(g.clone()).into_pyobject(py).map_err(|e| py_err_to_core(py, e))?.into_any().unbind(),
                    None => py.None(),
                });
            }
            let tup = PyTuple::new(py, args).map_err(|e| py_err_to_core(py, e))?;
            let r = backward.call1(py, tup).map_err(|e| py_err_to_core(py, e))?;
            let r = r.bind(py);
            let items: Vec<Bound<'_, PyAny>> = if r.is_instance_of::<PyTuple>() || r.is_instance_of::<PyList>() {
                r.try_iter().map_err(|e| ferrotorch::Error::Runtime(e.to_string()))?.filter_map(|x| x.ok()).collect()
            } else {
                vec![r.clone()]
            };
            let mut out = Vec::with_capacity(nin);
            for i in 0..nin {
                match items.get(i) {
                    Some(x) if !x.is_none() => match x.cast::<PyTensor>() {
                        Ok(t) => out.push(Some(t.get().t.clone())),
                        Err(_) => return Err(ferrotorch::Error::Type("function backward returned a gradient that is not a Tensor".into())),
                    },
                    _ => out.push(None),
                }
            }
            Ok(out)
        })
    });
    Ok(())
}
