'use strict';

/**
 * Delay calls to fn until wait milliseconds have passed without another call.
 */
function debounce(fn, wait) {
  let timer = null;
  return function (...args) {
    clearTimeout(timer);
    timer = setTimeout(() => fn.apply(this, args), wait);
  };
}

/**
 * Call fn at most once every interval milliseconds.
 */
function throttle(fn, interval) {
  let last = 0;
  return function (...args) {
    const now = Date.now();
    if (now - last >= interval) {
      last = now;
      fn.apply(this, args);
    }
  };
}

/**
 * Retry an async function with exponential backoff until it resolves.
 */
async function retryAsync(fn, attempts = 3, delay = 100) {
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i === attempts - 1) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay * 2 ** i));
    }
  }
}

module.exports = { debounce, throttle, retryAsync };
