'use strict';
// The demo's posts and comments, in memory (a real app has a database here).

const USERS = ['alice', 'bob', 'carol'];

/** A few posts by alice and bob so there is something to comment on right away. */
function seedPosts() {
  return [
    { id: 1, author: 'alice', title: 'Moving our pager alerts to STOMP', comments: [] },
    { id: 2, author: 'bob', title: 'Notes from the broker load test', comments: [] },
    { id: 3, author: 'alice', title: 'Lunch: the new ramen place?', comments: [] },
  ];
}

class PostStore {
  constructor(posts = seedPosts()) {
    this.posts = posts;
    this.lastCommentId = 0; // ids grow across all posts: a page orders and dedupes by id
  }

  all() {
    return this.posts;
  }

  find(id) {
    return this.posts.find((p) => p.id === id);
  }

  /** Adds a comment by `author` to post `id`; returns the comment, or undefined (no such post). */
  addComment(id, author, text) {
    const post = this.find(id);
    if (!post) return undefined;
    const comment = { id: ++this.lastCommentId, postId: id, author, text,
      at: new Date().toISOString() };
    post.comments.push(comment);
    return comment;
  }
}

module.exports = { PostStore, USERS };
