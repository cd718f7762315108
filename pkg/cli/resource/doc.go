// Package resource is what kl's read-and-edit commands (get, describe,
// delete, label, annotate, and later apply, rollout, logs) share:
//
//   - Resolver turns the KIND arguments users type ("po", "deploy",
//     "deployments.apps", "Service") into a Mapping (GroupVersionResource,
//     Kind, Namespaced), from the apiserver's discovery documents, fetched
//     once per command;
//   - ParseArgs splits the argument forms "TYPE NAME...", "TYPE/NAME..." and
//     "TYPE1,TYPE2";
//   - Printer prints objects as kubectl does: a table per kind (or -o wide),
//     yaml, json, name, jsonpath=TEMPLATE or custom-columns=SPEC; a kind's
//     columns and cells come from pkg/printers, which the apiserver's
//     meta.k8s.io Tables (kubectl get) use too;
//   - JSONPath evaluates kubectl's JSONPath templates;
//   - HumanDuration formats ages ("5s", "3m2s", "2d3h") like kubectl.
//
// Objects are handled as raw JSON (Object), as the dynamic client returns
// them; printers decode them into the typed structs of pkg/api where a kind
// needs its fields.
package resource
