// Frozen collections for the compiled policy: Object.freeze alone does not stop Map#set / Set#add, and a
// policy shared by every request must not be changed by one of them.

function refuse(): never {
  throw new TypeError('compiled policy collections are read-only');
}

/** Freeze a Set in place so add/delete/clear throw; lookups keep native speed. */
export function freezeSet<T>(set: Set<T>): ReadonlySet<T> {
  Object.defineProperties(set, { add: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } });
  return Object.freeze(set);
}

/** Freeze a Map in place so set/delete/clear throw. */
export function freezeMap<K, V>(map: Map<K, V>): ReadonlyMap<K, V> {
  Object.defineProperties(map, { set: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } });
  return Object.freeze(map);
}
