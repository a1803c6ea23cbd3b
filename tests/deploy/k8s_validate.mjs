// SPDX-License-Identifier: Apache-2.0
// Validate Kubernetes objects (a JSON array on stdin) against the OpenAPI
// schemas shipped by the kubernetes-models package, and the Prometheus
// Operator's CRDs (ServiceMonitor) against @kubernetes-models/prometheus-operator;
// prints a JSON array of {kind, name, error} and exits 0 (the caller decides).
import { readFileSync } from "node:fs";

const docs = JSON.parse(readFileSync(0, "utf8"));
const problems = [];
for (const doc of docs) {
	const name = doc?.metadata?.name;
	let Model;
	try {
		const pkg = doc.apiVersion?.startsWith("monitoring.coreos.com/")
			? "@kubernetes-models/prometheus-operator" : "kubernetes-models";
		Model = (await import(`${pkg}/${doc.apiVersion}/${doc.kind}`))[doc.kind];
	} catch (e) {
		problems.push({ kind: doc.kind, name, error: `no schema for ${doc.apiVersion} ${doc.kind}: ${e.message}` });
		continue;
	}
	try {
		new Model(doc).validate();
	} catch (e) {
		problems.push({ kind: doc.kind, name, error: e.message });
	}
}
process.stdout.write(JSON.stringify(problems));
