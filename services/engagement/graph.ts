/**
 * Dependency graphs as plain data: `from blocks to` edges over node ids. Used by task dependencies
 * and by skill prerequisites (README, "Engagement domain"). Linear in nodes + edges, so a plan of
 * 10,000 tasks answers in milliseconds (bench/engagement-plan.bench.ts).
 */

export interface Edge {
	from: string;
	to: string;
}

function adjacency(edges: readonly Edge[]): Map<string, string[]> {
	const out = new Map<string, string[]>();
	for (const e of edges) {
		const list = out.get(e.from);
		if (list) list.push(e.to);
		else out.set(e.from, [e.to]);
	}
	return out;
}

/** A path `start → … → goal` along the edges, or null (breadth first: the shortest one). */
export function findPath(edges: readonly Edge[], start: string, goal: string): string[] | null {
	if (start === goal) return [start];
	const next = adjacency(edges);
	const parent = new Map<string, string>([[start, start]]);
	const queue = [start];
	for (let i = 0; i < queue.length; i++) {
		const node = queue[i];
		for (const n of next.get(node) ?? []) {
			if (parent.has(n)) continue;
			parent.set(n, node);
			if (n === goal) {
				const path = [goal];
				for (let at = goal; at !== start;) path.unshift((at = parent.get(at)!));
				return path;
			}
			queue.push(n);
		}
	}
	return null;
}

/**
 * The cycle that adding `from → to` would close, as a path that starts and ends at `from`
 * (`[a, b, c, a]`), or null when the edge keeps the graph acyclic.
 */
export function cycleIfAdded(edges: readonly Edge[], from: string, to: string): string[] | null {
	const back = findPath(edges, to, from);
	return back ? [from, ...back] : null;
}

export interface Plan {
	/** every node, each after all of its blockers (ties: the order the nodes were given) */
	order: string[];
	/** the longest chain by weight: what decides the earliest finish */
	criticalPath: string[];
	/** the sum of the weights along the critical path */
	criticalLength: number;
}

/**
 * Topological order (Kahn) and critical path (longest weighted path through the DAG) over `nodes`.
 * Edges touching a node outside `nodes` are ignored (a closed blocker no longer orders anything).
 * Throws when the graph has a cycle (the stores refuse edges that would make one).
 */
export function plan(nodes: readonly { id: string; weight: number }[], edges: readonly Edge[]): Plan {
	const index = new Map<string, number>();
	nodes.forEach((n, i) => index.set(n.id, i));
	const n = nodes.length;
	const indegree = new Int32Array(n);
	const next: number[][] = Array.from({ length: n }, () => []);
	for (const e of edges) {
		const a = index.get(e.from);
		const b = index.get(e.to);
		if (a === undefined || b === undefined) continue;
		next[a].push(b);
		indegree[b]++;
	}
	// a FIFO over ready nodes seeded in input order keeps the order stable for the same input
	const queue: number[] = [];
	for (let i = 0; i < n; i++) if (indegree[i] === 0) queue.push(i);
	const finish = new Float64Array(n); // longest chain ending at i, i included
	const via = new Int32Array(n).fill(-1);
	const order: number[] = [];
	for (let q = 0; q < queue.length; q++) {
		const i = queue[q];
		order.push(i);
		finish[i] += nodes[i].weight;
		for (const j of next[i]) {
			if (finish[i] > finish[j]) {
				finish[j] = finish[i];
				via[j] = i;
			}
			if (--indegree[j] === 0) queue.push(j);
		}
	}
	if (order.length !== n) throw new Error("plan: the graph has a cycle");
	let end = -1;
	for (const i of order) if (end < 0 || finish[i] > finish[end]) end = i;
	const critical: string[] = [];
	for (let at = end; at >= 0; at = via[at]) critical.unshift(nodes[at].id);
	return { order: order.map(i => nodes[i].id), criticalPath: critical, criticalLength: end < 0 ? 0 : finish[end] };
}
