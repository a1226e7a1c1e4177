'use strict'
// CommonJS entry point: the native module as napi-rs loads it (index.js, generated), plus
// what Node-API cannot declare from Rust: `SampleIterator` is its own iterator, so
// `for (const s of samples(text))` works.
const native = require('./index.js')

native.SampleIterator.prototype[Symbol.iterator] = function iterator() {
  return this
}

module.exports = native
