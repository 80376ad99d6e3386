/**
 * Side-effect module: import it first in every plain-Node entry (headless peer, relay, tests,
 * benchmarks), before anything that loads libp2p.
 *
 * Why: libp2p 3 calls `Promise.withResolvers` (ES2024) at runtime, e.g. in its message streams
 * and ping. Node 20, the Node on these machines, lacks it; Electron 45 ships Node 24, which has
 * it, so there this module does nothing (ARCHITECTURE.md §10). Remove it once Node ≥ 22 is
 * the floor everywhere.
 */

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const PromiseWithResolvers = Promise as PromiseConstructor & { withResolvers?: unknown };

if (typeof PromiseWithResolvers.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    // Same shape as the built-in: not enumerable, writable and configurable, and it honours
    // `this` so subclasses of Promise get instances of themselves (ES2024 §27.2.4.8).
    value: function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve'];
      let reject!: Resolvers<T>['reject'];
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

export {};
