'use strict';

/**
 * A tiny HTTP router that matches method and path patterns such as /tasks/:id.
 */
class Router {
  constructor() {
    this.routes = [];
  }

  /**
   * Register a handler for a method and a path pattern with :named parameters.
   */
  add(method, pattern, handler) {
    const keys = [];
    const regex = new RegExp('^' + pattern.replace(/:(\w+)/g, (_, key) => {
      keys.push(key);
      return '([^/]+)';
    }) + '$');
    this.routes.push({ method, regex, keys, handler });
    return this;
  }

  /**
   * Find the handler for a request and extract the path parameters.
   */
  match(method, path) {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const found = route.regex.exec(path);
      if (found) {
        const params = {};
        route.keys.forEach((key, i) => { params[key] = decodeURIComponent(found[i + 1]); });
        return { handler: route.handler, params };
      }
    }
    return null;
  }
}

module.exports = { Router };
