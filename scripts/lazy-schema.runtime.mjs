// Runtime of scripts/lazy-schemas.esbuild-plugin.mjs, bundled into the agent and the web console: a stand-in for
// a zod schema that builds the real one on first use and forwards every operation to it, so
// `.parse`, `._zod`, `instanceof`, `.shape` and composition into other schemas behave as the
// schema itself does.

// One handler for all stand-ins (~475 of them): the thunk and the built schema live in a slot
// map keyed by the stand-in's (empty) target, so a stand-in costs two small objects.
const slots = new WeakMap();
const real = (stub) => {
  const slot = slots.get(stub);
  return (slot.schema ??= slot.build());
};
const handler = {
  get: (stub, key) => {
    const t = real(stub);
    return Reflect.get(t, key, t);
  },
  set: (stub, key, value) => Reflect.set(real(stub), key, value),
  has: (stub, key) => Reflect.has(real(stub), key),
  ownKeys: (stub) => Reflect.ownKeys(real(stub)),
  // Reported configurable: the stand-in (an empty, extensible object) may not claim a
  // non-configurable property it does not have; the value and attributes are the real ones.
  getOwnPropertyDescriptor: (stub, key) => {
    const d = Reflect.getOwnPropertyDescriptor(real(stub), key);
    return d && { ...d, configurable: true };
  },
  defineProperty: (stub, key, d) => Reflect.defineProperty(real(stub), key, d),
  deleteProperty: (stub, key) => Reflect.deleteProperty(real(stub), key),
  getPrototypeOf: (stub) => Reflect.getPrototypeOf(real(stub)),
  setPrototypeOf: (stub, proto) => Reflect.setPrototypeOf(real(stub), proto),
  isExtensible: () => true,
  preventExtensions: () => false,
};

export function lazySchema(build) {
  const stub = {};
  slots.set(stub, { build, schema: undefined });
  return new Proxy(stub, handler);
}
