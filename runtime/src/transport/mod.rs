//! Transports move `Message`s between a client and `Server::handle`; they hold
//! no protocol logic.

pub mod http;
pub mod stdio;
