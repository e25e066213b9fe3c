// Counts the WebGPU calls a page makes, for benchmarks/bench_browser.py: added to both pages
// (the engine's and TF.js's) before their own scripts run, so that the numbers per step
// (dispatches, submits, readbacks, and any object created in the hot loop: pipelines, bind
// groups, buffers) are measured the same way on both sides. A wrapped call costs one extra
// JS function call, far below the microseconds that the call itself takes.
(() => {
  const counts = {};
  window.gpuCallCounts = counts;
  const wrap = (proto, name) => {
    const original = proto && proto[name];
    if (typeof original !== "function") return;
    counts[name] = 0;
    proto[name] = function (...args) {
      counts[name] += 1;
      return original.apply(this, args);
    };
  };
  if (typeof GPUDevice === "undefined") return;
  wrap(GPUComputePassEncoder.prototype, "dispatchWorkgroups");
  wrap(GPUCommandEncoder.prototype, "beginComputePass");
  wrap(GPUCommandEncoder.prototype, "copyBufferToBuffer");
  wrap(GPUQueue.prototype, "submit");
  wrap(GPUQueue.prototype, "writeBuffer");
  wrap(GPUBuffer.prototype, "mapAsync");
  wrap(GPUDevice.prototype, "createCommandEncoder");
  wrap(GPUDevice.prototype, "createBindGroup");
  wrap(GPUDevice.prototype, "createBuffer");
  wrap(GPUDevice.prototype, "createComputePipeline");
  wrap(GPUDevice.prototype, "createComputePipelineAsync");
  wrap(GPUDevice.prototype, "createShaderModule");
})();
