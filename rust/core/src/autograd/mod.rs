//! Define-by-run reverse-mode autograd. Each differentiable op calls `record` with a
//! backward closure written in tensor ops (so backward runs on any device and is itself
//! differentiable); the engine (`engine.rs`) walks the graph without matching on op kinds.

pub mod engine;

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::{Arc, Mutex, Weak};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Result;
use crate::tensor::{Tensor, TensorData};
use crate::{bail, err};

pub use engine::{backward, grad};

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    static INFERENCE: Cell<bool> = const { Cell::new(false) };
}

static ANOMALY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
pub fn anomaly_enabled() -> bool {
    ANOMALY.load(Ordering::Relaxed)
}
pub fn set_anomaly_enabled(on: bool) {
    ANOMALY.store(on, Ordering::Relaxed)
}

pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}
pub fn set_grad_enabled(on: bool) {
    GRAD_ENABLED.with(|g| g.set(on))
}
pub fn is_inference_mode() -> bool {
    INFERENCE.with(|g| g.get())
}
pub fn set_inference_mode(on: bool) {
    INFERENCE.with(|g| g.set(on))
}

/// RAII guard: disables graph recording until dropped (`torch.no_grad()`).
pub struct NoGradGuard {
    prev: bool,
}
impl NoGradGuard {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let prev = is_grad_enabled();
        set_grad_enabled(false);
        NoGradGuard { prev }
    }
}
impl Drop for NoGradGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.prev)
    }
}

/// A gradient hook: may return a replacement gradient.
pub type Hook = Arc<dyn Fn(&Tensor) -> Result<Option<Tensor>> + Send + Sync>;

#[derive(Default)]
pub struct AutogradMeta {
    pub requires_grad: bool,
    pub grad: Option<Tensor>,
    pub grad_fn: Option<Arc<Node>>,
    pub output_nr: usize,
    /// Leaves: the AccumulateGrad node shared by every op that uses this leaf.
    pub grad_accumulator: Weak<Node>,
    pub retains_grad: bool,
    /// Hooks of a leaf (run before accumulation); non-leaf hooks live on the grad_fn.
    pub hooks: Vec<(u64, Hook)>,
    /// For a view: the tensor it views (the root, never itself a view). An in-place op
    /// on the view rewrites the base's history (CopySlices), as in PyTorch.
    pub view_base: Option<Tensor>,
}

/// Edge from a node's input slot to the node that produced that input.
#[derive(Clone)]
pub struct Edge {
    pub node: Arc<Node>,
    pub input_nr: usize,
}

/// What a backward closure gets besides the incoming gradients.
pub struct BackwardCtx<'a> {
    pub node: &'a Arc<Node>,
    pub create_graph: bool,
    /// Which inputs need a gradient (None edges don't).
    pub needs_input_grad: Vec<bool>,
}

pub type BackwardFn = dyn FnMut(&BackwardCtx, &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> + Send;

static SEQ: AtomicU64 = AtomicU64::new(0);

pub struct Node {
    pub name: Cow<'static, str>,
    pub next_edges: Vec<Option<Edge>>,
    pub num_outputs: usize,
    pub seq: u64,
    pub(crate) backward: Mutex<Option<Box<BackwardFn>>>,
    /// Tensor hooks of this node's outputs: (output_nr, id, hook).
    pub(crate) pre_hooks: Mutex<Vec<(usize, u64, Hook)>>,
    /// Outputs whose gradient must be stored in the tensor (retain_grad): weak, no cycles.
    pub(crate) retained: Mutex<Vec<(usize, Weak<crate::tensor::TensorImpl>)>>,
    /// Leaf accumulators point back at their variable.
    pub(crate) variable: Option<Weak<crate::tensor::TensorImpl>>,
}

impl Node {
    pub fn new(name: impl Into<Cow<'static, str>>, next_edges: Vec<Option<Edge>>, num_outputs: usize, f: Box<BackwardFn>) -> Arc<Node> {
        Arc::new(Node {
            name: name.into(),
            next_edges,
            num_outputs,
            seq: SEQ.fetch_add(1, Ordering::Relaxed),
            backward: Mutex::new(Some(f)),
            pre_hooks: Mutex::new(Vec::new()),
            retained: Mutex::new(Vec::new()),
            variable: None,
        })
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Whether this is a leaf's AccumulateGrad node (its leaf may have died since).
    pub fn is_accumulator(&self) -> bool {
        self.variable.is_some()
    }
    /// The leaf tensor of an AccumulateGrad node, while it lives.
    pub fn variable(&self) -> Option<Tensor> {
        self.variable.as_ref().and_then(|w| w.upgrade()).map(Tensor)
    }
    pub fn add_pre_hook(&self, output_nr: usize, id: u64, hook: Hook) {
        self.pre_hooks.lock().unwrap_or_else(|e| e.into_inner()).push((output_nr, id, hook));
    }
    pub fn remove_pre_hook(&self, id: u64) {
        self.pre_hooks.lock().unwrap_or_else(|e| e.into_inner()).retain(|h| h.1 != id);
    }
}

static HOOK_ID: AtomicU64 = AtomicU64::new(1);
pub fn next_hook_id() -> u64 {
    HOOK_ID.fetch_add(1, Ordering::Relaxed)
}

/// A tensor saved for backward. Saved outputs keep only their data (the node is
/// given back at unpack time), so an output never holds a strong reference to its
/// own grad_fn.
pub struct SavedTensor {
    data: TensorData,
    version: u64,
    /// For saved inputs: the original tensor (graph and all).
    original: Option<Tensor>,
    is_output: bool,
    output_nr: usize,
    requires_grad: bool,
}

impl SavedTensor {
    pub fn input(t: &Tensor) -> SavedTensor {
        let data = t.data().clone();
        SavedTensor {
            version: data.storage.version(),
            data,
            original: Some(t.clone()),
            is_output: false,
            output_nr: 0,
            requires_grad: false,
        }
    }
    pub fn output(t: &Tensor, output_nr: usize) -> SavedTensor {
        let data = t.data().clone();
        SavedTensor {
            version: data.storage.version(),
            data,
            original: None,
            is_output: true,
            output_nr,
            // Outputs are saved only by ops that are being recorded, so the output
            // requires grad once `record` has run (it has not yet, at save time).
            requires_grad: true,
        }
    }
    /// The saved tensor, checking it was not modified in place since it was saved.
    pub fn unpack(&self, ctx: &BackwardCtx) -> Result<Tensor> {
        let now = self.data.storage.version();
        if now != self.version {
            bail!(
                Runtime,
                "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.{} {}], which is {} of {}, is at version {}; expected version {} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).",
                self.data.dtype.legacy_name(),
                crate::shape::fmt_shape(&self.data.layout.shape),
                if self.is_output { format!("output {}", self.output_nr) } else { "an input".to_string() },
                ctx.node.name(),
                now,
                self.version
            );
        }
        if let Some(t) = &self.original {
            return Ok(if ctx.create_graph { t.clone() } else { Tensor::from_data(self.data.clone()) });
        }
        let t = Tensor::from_data(self.data.clone());
        if ctx.create_graph && self.requires_grad {
            let mut m = t.meta();
            m.requires_grad = true;
            m.grad_fn = Some(ctx.node.clone());
            m.output_nr = self.output_nr;
        }
        Ok(t)
    }
}

impl Tensor {
    pub fn requires_grad(&self) -> bool {
        let m = self.meta();
        m.requires_grad || m.grad_fn.is_some()
    }
    pub fn set_requires_grad(&self, on: bool) -> Result<()> {
        let mut m = self.meta();
        if m.grad_fn.is_some() {
            if !on {
                bail!(
                    Runtime,
                    "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
                );
            }
            return Ok(());
        }
        if on && !self.dtype().is_float() {
            bail!(Runtime, "only Tensors of floating point dtype can require gradients");
        }
        m.requires_grad = on;
        Ok(())
    }
    pub fn is_leaf(&self) -> bool {
        self.meta().grad_fn.is_none()
    }
    pub fn grad_fn(&self) -> Option<Arc<Node>> {
        self.meta().grad_fn.clone()
    }
    pub fn output_nr(&self) -> usize {
        self.meta().output_nr
    }
    pub fn grad(&self) -> Option<Tensor> {
        self.meta().grad.clone()
    }
    pub fn set_grad(&self, g: Option<Tensor>) -> Result<()> {
        if let Some(g) = &g {
            if g.shape() != self.shape() {
                bail!(
                    Runtime,
                    "assigned grad has data of a different size: grad {} vs tensor {}",
                    crate::shape::fmt_shape(&g.shape()),
                    crate::shape::fmt_shape(&self.shape())
                );
            }
        }
        self.meta().grad = g;
        Ok(())
    }
    /// A tensor sharing data but outside the graph.
    pub fn detach(&self) -> Tensor {
        Tensor::from_data(self.data().clone())
    }
    pub fn detach_(&self) {
        let mut m = self.meta();
        m.grad_fn = None;
        m.requires_grad = false;
    }
    pub fn retain_grad(&self) -> Result<()> {
        let grad_fn = {
            let m = self.meta();
            if m.grad_fn.is_none() {
                if !m.requires_grad {
                    bail!(Runtime, "can't retain_grad on Tensor that has requires_grad=False");
                }
                return Ok(()); // leaves always retain
            }
            if m.retains_grad {
                return Ok(());
            }
            m.grad_fn.clone().unwrap()
        };
        let nr = self.output_nr();
        grad_fn.retained.lock().unwrap_or_else(|e| e.into_inner()).push((nr, Arc::downgrade(&self.0)));
        self.meta().retains_grad = true;
        Ok(())
    }
    pub fn retains_grad(&self) -> bool {
        self.meta().retains_grad
    }
    /// Register a gradient hook; returns its id for removal.
    pub fn register_hook(&self, hook: Hook) -> Result<u64> {
        if !self.requires_grad() {
            bail!(Runtime, "cannot register a hook on a tensor that doesn't require gradient");
        }
        let id = next_hook_id();
        let (grad_fn, nr) = {
            let m = self.meta();
            (m.grad_fn.clone(), m.output_nr)
        };
        match grad_fn {
            Some(f) => f.add_pre_hook(nr, id, hook),
            None => self.meta().hooks.push((id, hook)),
        }
        Ok(id)
    }
    pub fn remove_hook(&self, id: u64) {
        let grad_fn = self.meta().grad_fn.clone();
        match grad_fn {
            Some(f) => f.remove_pre_hook(id),
            None => self.meta().hooks.retain(|h| h.0 != id),
        }
    }

    /// The edge gradient flows along from an op that used this tensor as input.
    pub(crate) fn gradient_edge(&self) -> Option<Edge> {
        let mut m = self.meta();
        if let Some(f) = &m.grad_fn {
            return Some(Edge { node: f.clone(), input_nr: m.output_nr });
        }
        if !m.requires_grad {
            return None;
        }
        if let Some(acc) = m.grad_accumulator.upgrade() {
            return Some(Edge { node: acc, input_nr: 0 });
        }
        let acc = Arc::new(Node {
            name: Cow::Borrowed("AccumulateGrad"),
            next_edges: Vec::new(),
            num_outputs: 1,
            seq: SEQ.fetch_add(1, Ordering::Relaxed),
            backward: Mutex::new(None),
            pre_hooks: Mutex::new(Vec::new()),
            retained: Mutex::new(Vec::new()),
            variable: Some(Arc::downgrade(&self.0)),
        });
        m.grad_accumulator = Arc::downgrade(&acc);
        // The accumulator is kept alive by the graph nodes that point at it; the leaf
        // holds only a weak reference (no cycle), as in PyTorch.
        Some(Edge { node: acc, input_nr: 0 })
    }
}

/// Whether an op on these inputs must be recorded.
#[inline]
pub fn needs_grad(inputs: &[&Tensor]) -> bool {
    is_grad_enabled() && inputs.iter().any(|t| t.requires_grad())
}

/// Record a differentiable op: `outputs` get a new node named `name` whose edges point
/// at the inputs' grad_fns / accumulators. Call only when `needs_grad(inputs)`.
pub fn record<F>(name: &'static str, inputs: &[&Tensor], outputs: &[&Tensor], f: F)
where
    F: FnMut(&BackwardCtx, &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> + Send + 'static,
{
    let edges = inputs.iter().map(|t| t.gradient_edge()).collect();
    let node = Node::new(name, edges, outputs.len(), Box::new(f));
    for (i, o) in outputs.iter().enumerate() {
        let mut m = o.meta();
        m.grad_fn = Some(node.clone());
        m.output_nr = i;
        m.requires_grad = true;
    }
}

/// An op computed by `forward` as a composite of other ops but recorded as one node named
/// `name` (PyTorch's name for it) whose backward is `backward(ctx, saved inputs, grad)`:
/// the composite runs without recording, so the graph holds one node instead of the
/// composite's several, and `grad_fn` reads as in PyTorch (`DotBackward0`, not the
/// `ViewBackward0` of the mm it is made of). With `save`, backward gets the inputs (saved,
/// version-checked); without, an empty slice (stack's backward needs none, and saving
/// would make an in-place change of an input after the op an error PyTorch does not raise).
pub fn composite<F, B>(name: &'static str, inputs: &[&Tensor], save: bool, forward: F, mut backward: B) -> Result<Tensor>
where
    F: FnOnce() -> Result<Tensor>,
    B: FnMut(&[Tensor], &Tensor) -> Result<Vec<Option<Tensor>>> + Send + 'static,
{
    if !needs_grad(inputs) {
        return forward();
    }
    let out = {
        let _g = NoGradGuard::new();
        forward()?
    };
    let saved: Vec<SavedTensor> = if save { inputs.iter().map(|t| SavedTensor::input(t)).collect() } else { Vec::new() };
    record(name, inputs, &[&out], move |ctx, g| {
        let Some(g) = &g[0] else { return Ok(vec![None; ctx.needs_input_grad.len()]) };
        let xs = saved.iter().map(|s| s.unpack(ctx)).collect::<Result<Vec<_>>>()?;
        let mut grads = backward(&xs, g)?;
        for (gr, need) in grads.iter_mut().zip(ctx.needs_input_grad.iter()) {
            if !need {
                *gr = None;
            }
        }
        Ok(grads)
    });
    Ok(out)
}

/// Same as `record` with an owned name (custom Python Functions).
pub fn record_named<F>(name: String, inputs: &[&Tensor], outputs: &[&Tensor], f: F) -> Arc<Node>
where
    F: FnMut(&BackwardCtx, &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> + Send + 'static,
{
    let edges = inputs.iter().map(|t| t.gradient_edge()).collect();
    let node = Node::new(name, edges, outputs.len(), Box::new(f));
    for (i, o) in outputs.iter().enumerate() {
        let mut m = o.meta();
        m.grad_fn = Some(node.clone());
        m.output_nr = i;
        m.requires_grad = true;
    }
    node
}

/// In-place ops: error on a leaf that requires grad, or a view of one (PyTorch's checks).
pub fn check_inplace(t: &Tensor) -> Result<()> {
    if is_grad_enabled() {
        let base = {
            let m = t.meta();
            if m.grad_fn.is_none() && m.requires_grad {
                return Err(err!(
                    Runtime,
                    "a leaf Variable that requires grad is being used in an in-place operation."
                ));
            }
            m.view_base.clone()
        };
        if let Some(b) = base {
            let m = b.meta();
            if m.grad_fn.is_none() && m.requires_grad {
                return Err(err!(
                    Runtime,
                    "a view of a leaf Variable that requires grad is being used in an in-place operation."
                ));
            }
        }
    }
    Ok(())
}

/// After `x` was overwritten in place by a value whose history is `src`'s grad_fn,
/// make that its history (PyTorch's rebase_history). When `x` is a view, the history of
/// its base is rewritten instead (CopySlices) and `x` becomes a view of the new base.
pub fn rebase_history(x: &Tensor, src: &Tensor) -> Result<()> {
    let (gf, nr) = {
        let m = src.meta();
        (m.grad_fn.clone(), m.output_nr)
    };
    let Some(gf) = gf else { return Ok(()) };
    let base = x.meta().view_base.clone();
    match base {
        Some(b) => crate::ops::view::copy_slices(&b, x, src),
        None => {
            let mut m = x.meta();
            m.grad_fn = Some(gf);
            m.output_nr = nr;
            m.requires_grad = true;
            Ok(())
        }
    }
}

/// Give `to` the history `from` has (`from` is a scratch tensor an op was recorded on).
pub(crate) fn move_history(from: &Tensor, to: &Tensor) {
    let (gf, nr) = {
        let m = from.meta();
        (m.grad_fn.clone(), m.output_nr)
    };
    let mut m = to.meta();
    m.grad_fn = gf;
    m.output_nr = nr;
    m.requires_grad = true;
}

thread_local! {
    static DROPPING: Cell<bool> = const { Cell::new(false) };
    static DROP_QUEUE: std::cell::RefCell<Vec<Box<dyn std::any::Any>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Dropping the last reference to a long graph would recurse once per node (node ->
/// edges / saved tensors -> node ...) and overflow the stack on a 100k-node chain.
/// Nested drops are queued instead and drained by the outermost one.
impl Drop for Node {
    fn drop(&mut self) {
        let edges = std::mem::take(&mut self.next_edges);
        let bw = self.backward.get_mut().map(|b| b.take()).unwrap_or(None);
        let payload: Box<dyn std::any::Any> = Box::new((edges, bw));
        if DROPPING.with(|d| d.get()) {
            DROP_QUEUE.with(|q| q.borrow_mut().push(payload));
            return;
        }
        DROPPING.with(|d| d.set(true));
        drop(payload);
        loop {
            let next = DROP_QUEUE.with(|q| q.borrow_mut().pop());
            match next {
                Some(p) => drop(p),
                None => break,
            }
        }
        DROPPING.with(|d| d.set(false));
    }
}
