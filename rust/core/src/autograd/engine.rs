//! The backward engine: dependency counting over the reachable graph, then an
//! iterative walk in topological order (a ready heap keyed by creation sequence, so
//! later nodes run first as in PyTorch). No recursion: a 100k-node chain is fine.

use std::collections::BinaryHeap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::{BackwardCtx, Edge, Node, NoGradGuard};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, err};

type Key = *const Node;

/// The engine's maps are keyed by node addresses and sequence numbers, and a small
/// graph's backward builds several: std's SipHash (DoS-resistant, which pointer keys do
/// not need) was ~3% of a 4-op forward + backward. This is rustc's FxHash step: one
/// rotate-xor-multiply per word. (Not the `rustc-hash` crate: the dependency list is
/// fixed, and this is the whole of it.)
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64)
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;
type HashSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;

fn key(n: &Arc<Node>) -> Key {
    Arc::as_ptr(n)
}

/// Where the engine should capture gradients instead of accumulating (autograd.grad,
/// or backward(inputs=...)).
struct Capture {
    /// (node, input slot) -> index into the result vector.
    slots: HashMap<(Key, usize), Vec<usize>>,
    /// Keeps capture nodes alive so their addresses (the keys) stay unique.
    _keep: Vec<Arc<Node>>,
}

fn root_grads(roots: &[Tensor], grads: &[Option<Tensor>]) -> Result<Vec<(Edge, Tensor)>> {
    let mut out = Vec::with_capacity(roots.len());
    for (i, r) in roots.iter().enumerate() {
        let edge = r.gradient_edge().ok_or_else(|| {
            err!(Runtime, "element {} of tensors does not require grad and does not have a grad_fn", i)
        })?;
        let g = match grads.get(i).cloned().flatten() {
            Some(g) => {
                if g.shape() != r.shape() {
                    bail!(
                        Runtime,
                        "Mismatch in shape: grad_output[{}] has a shape of {} and output[{}] has a shape of {}.",
                        i,
                        crate::shape::fmt_shape(&g.shape()),
                        i,
                        crate::shape::fmt_shape(&r.shape())
                    );
                }
                g
            }
            None => {
                if r.numel() != 1 {
                    bail!(Runtime, "grad can be implicitly created only for scalar outputs");
                }
                Tensor::ones(&r.shape(), r.dtype(), r.device())?
            }
        };
        out.push((edge, g));
    }
    Ok(out)
}

/// Run the graph from `roots`. With `capture`, gradients reaching the capture slots are
/// returned and leaves are not accumulated into (unless `accumulate` is set, as for
/// backward(inputs=...)).
fn run(
    roots: Vec<(Edge, Tensor)>,
    retain_graph: bool,
    create_graph: bool,
    capture: Option<&Capture>,
    accumulate: bool,
    ncaptured: usize,
) -> Result<Vec<Option<Tensor>>> {
    // Backward formulas run in the dtypes the forward saved: autocast stays off while the
    // graph runs (a custom Function's backward may turn it on again, as `custom_bwd` does).
    let _no_autocast = crate::autocast::ExcludeGuard::new();
    // 1. Dependencies over the reachable graph (iterative DFS).
    let mut deps: HashMap<Key, usize> = HashMap::default();
    let mut nodes: HashMap<Key, Arc<Node>> = HashMap::default();
    let mut stack: Vec<Arc<Node>> = Vec::new();
    for (e, _) in &roots {
        if nodes.insert(key(&e.node), e.node.clone()).is_none() {
            stack.push(e.node.clone());
        }
    }
    while let Some(n) = stack.pop() {
        for e in n.next_edges.iter().flatten() {
            *deps.entry(key(&e.node)).or_insert(0) += 1;
            if nodes.insert(key(&e.node), e.node.clone()).is_none() {
                stack.push(e.node.clone());
            }
        }
    }
    // 2. With capture, only nodes from which a capture slot is reachable need to run.
    let needed: Option<HashSet<Key>> = capture.map(|c| {
        let targets: HashSet<Key> = c.slots.keys().map(|k| k.0).collect();
        // Reverse topological order: children before parents.
        let mut needed = HashSet::default();
        let topo = topo_order(&roots, &nodes, &deps);
        for k in topo.iter().rev() {
            let n = &nodes[k];
            if targets.contains(k) || n.next_edges.iter().flatten().any(|e| needed.contains(&key(&e.node))) {
                needed.insert(*k);
            }
        }
        needed
    });

    let _grad_mode = if create_graph { None } else { Some(NoGradGuard::new()) };
    let _enable = if create_graph { Some(GradEnable::new()) } else { None };

    // Sized once: growing these maps node by node showed up as rehashing.
    let n = nodes.len();
    let mut buffers: HashMap<Key, Vec<Option<Tensor>>> = HashMap::with_capacity_and_hasher(n, Default::default());
    let mut heap: BinaryHeap<(u64, usize)> = BinaryHeap::with_capacity(n);
    let mut by_seq: HashMap<u64, Arc<Node>> = HashMap::with_capacity_and_hasher(n, Default::default());
    for (e, g) in roots {
        let k = key(&e.node);
        let buf = buffers.entry(k).or_insert_with(|| vec![None; e.node.num_outputs.max(1)]);
        accumulate_into(&mut buf[e.input_nr], g)?;
        if deps.get(&k).copied().unwrap_or(0) == 0 && !by_seq.contains_key(&e.node.seq) {
            heap.push((e.node.seq, 0));
            by_seq.insert(e.node.seq, e.node.clone());
        }
    }
    let mut captured: Vec<Option<Tensor>> = vec![None; ncaptured];

    while let Some((seq, _)) = heap.pop() {
        let node = by_seq.remove(&seq).expect("scheduled node");
        let k = key(&node);
        let mut grads = buffers.remove(&k).unwrap_or_default();
        grads.resize(node.num_outputs.max(1), None);

        // Tensor hooks on this node's outputs may replace the gradient.
        let hooks: Vec<_> = node.pre_hooks.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for (nr, _, h) in hooks {
            if let Some(g) = &grads[nr] {
                if let Some(newg) = h(g)? {
                    grads[nr] = Some(newg);
                }
            }
        }
        // retain_grad on non-leaf outputs.
        for (nr, w) in node.retained.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            if let (Some(t), Some(g)) = (w.upgrade().map(Tensor), &grads[*nr]) {
                let g = if create_graph { g.clone() } else { g.detach() };
                let mut m = t.meta();
                m.grad = Some(match m.grad.take() {
                    None => g.contiguous_copy()?,
                    Some(old) => old.add(&g)?,
                });
            }
        }
        if let Some(c) = capture {
            for (slot, g) in grads.iter().enumerate() {
                if let Some(idxs) = c.slots.get(&(k, slot)) {
                    for &i in idxs {
                        captured[i] = g.clone();
                    }
                }
            }
        }

        if node.is_accumulator() {
            // A leaf that no longer exists (`torch.randn(2, requires_grad=True).sum().backward()`)
            // has no `.grad` anyone could read: its gradient is dropped. Rejected: a strong
            // reference from the accumulator to its leaf as PyTorch keeps, which makes
            // `leaf.grad -> grad_fn -> ... -> accumulator -> leaf` a cycle under create_graph.
            let do_acc = match capture {
                None => true,
                Some(c) => accumulate && c.slots.contains_key(&(k, 0)),
            };
            if let (true, Some(var)) = (do_acc, node.variable()) {
                if let Some(g) = grads.into_iter().next().flatten() {
                    accumulate_grad(&var, g, create_graph)?;
                }
            }
            continue;
        }
        if let Some(n) = &needed {
            if !n.contains(&k) {
                continue;
            }
        }

        let ctx = BackwardCtx {
            node: &node,
            create_graph,
            needs_input_grad: node.next_edges.iter().map(|e| e.is_some()).collect(),
        };
        let mut f = {
            let mut guard = node.backward.lock().unwrap_or_else(|e| e.into_inner());
            match guard.take() {
                Some(f) => f,
                None => bail!(
                    Runtime,
                    "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward."
                ),
            }
        };
        let result = f(&ctx, &grads);
        if retain_graph {
            *node.backward.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
        }
        let outs = result?;
        if crate::autograd::anomaly_enabled() {
            for g in outs.iter().flatten() {
                if g.is_floating_point() && g.has_nan()? {
                    bail!(Runtime, "Function '{}' returned nan values in its 0th output.", node.name());
                }
            }
        }
        for (i, e) in node.next_edges.iter().enumerate() {
            let Some(e) = e else { continue };
            let ek = key(&e.node);
            let g = outs.get(i).cloned().flatten();
            if let Some(g) = g {
                let buf = buffers.entry(ek).or_insert_with(|| vec![None; e.node.num_outputs.max(1)]);
                accumulate_into(&mut buf[e.input_nr], g)?;
            }
            let d = deps.get_mut(&ek).expect("dependency counted");
            *d -= 1;
            if *d == 0 {
                if buffers.contains_key(&ek) {
                    heap.push((e.node.seq, 0));
                    by_seq.insert(e.node.seq, e.node.clone());
                } else {
                    // Nothing flowed here: its subtree gets nothing either, but its
                    // children still wait on it.
                    release_subtree(&e.node, &mut deps, &mut buffers, &mut heap, &mut by_seq);
                }
            }
        }
    }
    Ok(captured)
}

/// A node that received no gradient still has to release its children's dependency
/// counts, so that nodes reachable along another path can run.
fn release_subtree(
    n: &Arc<Node>,
    deps: &mut HashMap<Key, usize>,
    buffers: &mut HashMap<Key, Vec<Option<Tensor>>>,
    heap: &mut BinaryHeap<(u64, usize)>,
    by_seq: &mut HashMap<u64, Arc<Node>>,
) {
    let mut stack = vec![n.clone()];
    while let Some(n) = stack.pop() {
        for e in n.next_edges.iter().flatten() {
            let ek = key(&e.node);
            let d = deps.get_mut(&ek).expect("dependency counted");
            *d -= 1;
            if *d == 0 {
                if buffers.contains_key(&ek) {
                    heap.push((e.node.seq, 0));
                    by_seq.insert(e.node.seq, e.node.clone());
                } else {
                    stack.push(e.node.clone());
                }
            }
        }
    }
}

fn topo_order(roots: &[(Edge, Tensor)], nodes: &HashMap<Key, Arc<Node>>, deps: &HashMap<Key, usize>) -> Vec<Key> {
    let mut deps = deps.clone();
    let mut out = Vec::with_capacity(nodes.len());
    let mut stack: Vec<Key> = Vec::new();
    let mut seen = HashSet::default();
    for (e, _) in roots {
        let k = key(&e.node);
        if deps.get(&k).copied().unwrap_or(0) == 0 && seen.insert(k) {
            stack.push(k);
        }
    }
    while let Some(k) = stack.pop() {
        out.push(k);
        for e in nodes[&k].next_edges.iter().flatten() {
            let ek = key(&e.node);
            let d = deps.get_mut(&ek).unwrap();
            *d -= 1;
            if *d == 0 {
                stack.push(ek);
            }
        }
    }
    out
}

struct GradEnable {
    prev: bool,
}
impl GradEnable {
    fn new() -> Self {
        let prev = super::is_grad_enabled();
        super::set_grad_enabled(true);
        GradEnable { prev }
    }
}
impl Drop for GradEnable {
    fn drop(&mut self) {
        super::set_grad_enabled(self.prev)
    }
}

fn accumulate_into(slot: &mut Option<Tensor>, g: Tensor) -> Result<()> {
    *slot = Some(match slot.take() {
        None => g,
        Some(old) => old.add(&g)?,
    });
    Ok(())
}

/// AccumulateGrad: leaf hooks, then `.grad` = g (first time) or `.grad += g`.
fn accumulate_grad(var: &Tensor, mut g: Tensor, create_graph: bool) -> Result<()> {
    let hooks: Vec<_> = var.meta().hooks.iter().map(|h| h.1.clone()).collect();
    for h in hooks {
        if let Some(ng) = h(&g)? {
            g = ng;
        }
    }
    let old = var.meta().grad.clone();
    let new = match old {
        None => {
            if create_graph {
                g
            } else if g.is_contiguous() && std::sync::Arc::strong_count(&g.0) == 1 && !g.storage().is_shared() {
                g.detach()
            } else {
                g.detach().contiguous_copy()?
            }
        }
        Some(old) => {
            // In place only into a buffer the grad owns alone: a grad stored by a
            // create_graph backward may be an expanded (stride-0) or shared tensor.
            if create_graph || super::is_grad_enabled() {
                old.add(&g)?
            } else if old.is_contiguous() && !old.storage().is_shared() {
                old.add_(&g)?;
                old
            } else {
                old.add(&g)?.detach()
            }
        }
    };
    var.meta().grad = Some(new);
    Ok(())
}

/// `Tensor.backward` / `autograd.backward`: accumulate d(roots)/d(leaves) into `.grad`.
pub fn backward(
    roots: &[Tensor],
    grads: &[Option<Tensor>],
    retain_graph: bool,
    create_graph: bool,
    inputs: Option<&[Tensor]>,
) -> Result<()> {
    let r = root_grads(roots, grads)?;
    match inputs {
        None => {
            run(r, retain_graph, create_graph, None, true, 0)?;
        }
        Some(inputs) => {
            let cap = capture_for(inputs)?;
            let got = run(r, retain_graph, create_graph, Some(&cap), true, inputs.len())?;
            // Non-leaf inputs get their gradient stored in .grad too.
            for (t, g) in inputs.iter().zip(got) {
                if !t.is_leaf() {
                    if let Some(g) = g {
                        let mut m = t.meta();
                        m.grad = Some(match m.grad.take() {
                            None => g.detach(),
                            Some(old) => old.add(&g)?,
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

fn capture_for(inputs: &[Tensor]) -> Result<Capture> {
    let mut slots: HashMap<(Key, usize), Vec<usize>> = HashMap::default();
    let mut keep = Vec::new();
    for (i, t) in inputs.iter().enumerate() {
        let e = t
            .gradient_edge()
            .ok_or_else(|| err!(Runtime, "One of the differentiated Tensors does not require grad"))?;
        slots.entry((key(&e.node), e.input_nr)).or_default().push(i);
        keep.push(e.node);
    }
    Ok(Capture { slots, _keep: keep })
}

/// `autograd.grad`: gradients of `outputs` w.r.t. `inputs`, without touching `.grad`.
pub fn grad(
    outputs: &[Tensor],
    inputs: &[Tensor],
    grad_outputs: &[Option<Tensor>],
    retain_graph: bool,
    create_graph: bool,
    allow_unused: bool,
) -> Result<Vec<Option<Tensor>>> {
    let r = root_grads(outputs, grad_outputs)?;
    let cap = capture_for(inputs)?;
    let got = run(r, retain_graph, create_graph, Some(&cap), false, inputs.len())?;
    if !allow_unused {
        if let Some(i) = got.iter().position(|g| g.is_none()) {
            bail!(
                Runtime,
                "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior. (input {})",
                i
            );
        }
    }
    Ok(got)
}
