// The TF.js side of benchmarks/bench_browser.py: the same MLP training step as the engine's
// (benchmarks/browser/engine_bench.py), on TF.js's WebGPU backend, timed in the page.
//
//   await benchTfjs.init()                  -> {backend: "webgpu", version, adapter}
//   benchTfjs.setup(name, config)           the model, optimizer and batches of one config
//   await benchTfjs.run(name, start, count) -> {ms: [...], losses: [...], tensors}
//   benchTfjs.dispose(name)
//
// One step: optimizer.minimize(forward + cross-entropy) and `await loss.data()`, which waits
// for the GPU as the engine's `loss.item()` does. Weights and batches arrive as base64
// float32/int32 (little-endian) from the script, so both frameworks start from the same
// numbers. The layers are `tf.fused.matMul` with bias (and ReLU): what tf.layers.dense runs.
"use strict";

const runs = new Map();

function decode(base64, Type) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new Type(bytes.buffer);
}

function makeOptimizer(name, lr, momentum) {
  if (name === "SGD") return tf.train.momentum(lr, momentum);
  if (name === "Adam") return tf.train.adam(lr, 0.9, 0.999, 1e-8);
  throw new Error(`unknown optimizer ${name}`);
}

window.benchTfjs = {
  async init() {
    if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') failed");
    await tf.ready();
    const backend = tf.getBackend();
    if (backend !== "webgpu") throw new Error(`TF.js runs on '${backend}', not 'webgpu'`);
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
    const info = adapter.info || {};
    return {
      backend,
      version: tf.version.tfjs,
      adapter: [info.vendor, info.architecture, info.device, info.description]
        .filter((part) => part)
        .join(" | "),
    };
  },

  setup(name, config) {
    const { inputs, hidden, classes, batch, pool } = config;
    const weights = config.weights;
    const images = decode(config.images, Float32Array);
    const labels = decode(config.labels, Int32Array);
    const batches = [];
    for (let i = 0; i < pool; i++) {
      const x = tf.tensor2d(images.subarray(i * batch * inputs, (i + 1) * batch * inputs), [
        batch,
        inputs,
      ]);
      const y = tf.tidy(() =>
        tf.cast(
          tf.oneHot(tf.tensor1d(labels.subarray(i * batch, (i + 1) * batch), "int32"), classes),
          "float32",
        ),
      );
      batches.push({ x, y });
    }
    // TF's dense layout: kernel [in, out] (the engine keeps PyTorch's [out, in]).
    const w1 = tf.variable(tf.tensor2d(decode(weights.w1, Float32Array), [inputs, hidden]));
    const b1 = tf.variable(tf.tensor1d(decode(weights.b1, Float32Array)));
    const w2 = tf.variable(tf.tensor2d(decode(weights.w2, Float32Array), [hidden, classes]));
    const b2 = tf.variable(tf.tensor1d(decode(weights.b2, Float32Array)));
    const variables = [w1, b1, w2, b2];
    const optimizer = makeOptimizer(config.optimizer, config.lr, config.momentum);

    async function step(i) {
      const { x, y } = batches[i % batches.length];
      const loss = optimizer.minimize(
        () => {
          const h = tf.fused.matMul({ a: x, b: w1, bias: b1, activation: "relu" });
          const logits = tf.fused.matMul({ a: h, b: w2, bias: b2 });
          return tf.losses.softmaxCrossEntropy(y, logits);
        },
        true,
        variables,
      );
      const value = (await loss.data())[0];
      loss.dispose();
      return value;
    }

    runs.set(name, { step, batches, variables, optimizer });
  },

  async run(name, start, count) {
    const { step } = runs.get(name);
    const ms = [];
    const losses = [];
    for (let i = start; i < start + count; i++) {
      const started = performance.now();
      const loss = await step(i);
      ms.push(performance.now() - started);
      losses.push(loss);
    }
    return { ms, losses, tensors: tf.memory().numTensors };
  },

  dispose(name) {
    const { batches, variables, optimizer } = runs.get(name);
    for (const { x, y } of batches) tf.dispose([x, y]);
    tf.dispose(variables);
    optimizer.dispose();
    runs.delete(name);
  },
};
