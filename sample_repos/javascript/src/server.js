'use strict';

const http = require('http');
const { Router } = require('./router');
const { TaskStore } = require('./store');
const { validateTask } = require('./validate');

/**
 * Read the whole request body and parse it as JSON.
 */
function readJsonBody(req) {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.on('data', (chunk) => { raw += chunk; });
    req.on('end', () => {
      try {
        resolve(raw ? JSON.parse(raw) : {});
      } catch (err) {
        reject(err);
      }
    });
  });
}

const handlers = {
  /** List every task as JSON. */
  listTasks(req, res, store) {
    sendJson(res, 200, store.tasks);
  },

  /** Validate and create a task from the request body. */
  createTask: async function (req, res, store) {
    const body = await readJsonBody(req);
    const errors = validateTask(body);
    if (errors.length) return sendJson(res, 400, { errors });
    const task = store.create(body);
    store.save();
    return sendJson(res, 201, task);
  },
};

/** Write a JSON response with a status code. */
function sendJson(res, status, payload) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(payload));
}

/**
 * Create the HTTP server with all task routes registered.
 */
function createServer(file) {
  const store = new TaskStore(file).load();
  const router = new Router()
    .add('GET', '/tasks', handlers.listTasks)
    .add('POST', '/tasks', handlers.createTask);
  return http.createServer((req, res) => {
    const found = router.match(req.method, req.url.split('?')[0]);
    if (!found) return sendJson(res, 404, { error: 'not found' });
    return found.handler(req, res, store, found.params);
  });
}

module.exports = { createServer, readJsonBody, sendJson };
