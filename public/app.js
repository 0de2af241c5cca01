// The landing page: readiness and services × nodes, refreshed every few seconds.
async function refresh() {
	const ready = document.getElementById("ready");
	try {
		const r = await fetch("/health/ready");
		const body = await r.json();
		const failing = body.checks
			.filter(c => !c.ok)
			.map(c => c.name)
			.join(", ");
		ready.textContent = body.status === "ready" ? "Ready" : body.status === "degraded" ? "Ready, degraded: " + failing : "Not ready: " + failing;
		ready.className = body.status === "unavailable" ? "bad" : "ok";
		const s = await (await fetch("/health/services")).json();
		const rows = s.services.map(x => {
			const tr = document.createElement("tr");
			for (const v of [x.name, String(x.nodes), x.available ? "yes" : "no"]) {
				const td = document.createElement("td");
				td.textContent = v;
				tr.appendChild(td);
			}
			tr.className = x.available ? "ok" : "bad";
			return tr;
		});
		document.querySelector("#services tbody").replaceChildren(...rows);
	} catch {
		ready.textContent = "The gateway does not answer.";
		ready.className = "bad";
	}
}
refresh();
setInterval(refresh, 5000);
