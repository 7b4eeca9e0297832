'use strict';

const fs = require('fs');

/**
 * Persistent task storage backed by a JSON file.
 */
class TaskStore {
  constructor(file) {
    this.file = file;
    this.tasks = [];
    this.nextId = 1;
  }

  /** Load tasks from disk, starting empty when the file does not exist. */
  load() {
    if (!fs.existsSync(this.file)) return this;
    const data = JSON.parse(fs.readFileSync(this.file, 'utf8'));
    this.tasks = data.tasks || [];
    this.nextId = this.tasks.reduce((max, t) => Math.max(max, t.id), 0) + 1;
    return this;
  }

  /** Write all tasks to disk atomically through a temporary file. */
  save() {
    const tmp = this.file + '.tmp';
    fs.writeFileSync(tmp, JSON.stringify({ tasks: this.tasks }, null, 2));
    fs.renameSync(tmp, this.file);
  }

  /** Create a task with a fresh id and return it. */
  create(fields) {
    const task = { id: this.nextId++, done: false, createdAt: new Date().toISOString(), ...fields };
    this.tasks.push(task);
    return task;
  }

  /** Mark a task as completed. */
  complete(id) {
    const task = this.tasks.find((t) => t.id === id);
    if (!task) throw new Error(`no task ${id}`);
    task.done = true;
    return task;
  }
}

/** Sort tasks by priority and then by due date, soonest first. */
const sortTasks = (tasks) => {
  const rank = { high: 0, normal: 1, low: 2 };
  return [...tasks].sort((a, b) =>
    (rank[a.priority || 'normal'] - rank[b.priority || 'normal']) ||
    String(a.due || '9999').localeCompare(String(b.due || '9999')));
};

module.exports = { TaskStore, sortTasks };
