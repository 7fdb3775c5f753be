// The words and orders of the model, as the page shows them.

/** Layers top to bottom: what the customer sees first. */
export const KIND_LAYER = {
  promise: 0, business_service: 1, service_act: 2, service_system: 3, ci: 4,
};

export const KIND_WORD = {
  promise: "promise", business_service: "business service", service_act: "service act",
  service_system: "service system", ci: "CI",
};

export const KIND_PLURAL = {
  promise: "promises", business_service: "business services", service_act: "service acts",
  service_system: "service systems", ci: "CIs",
};

export const STATE_RANK = { ok: 0, degraded: 1, down: 2 };

export function worse(a, b) {
  return (STATE_RANK[a] || 0) >= (STATE_RANK[b] || 0) ? a : b;
}

/** A promise's state in the customer's words. */
export function promiseWord(state) {
  return state === "down" ? "broken" : state === "degraded" ? "at risk" : "kept";
}
