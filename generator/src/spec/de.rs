//! A serde `Deserializer` over the positioned YAML tree of `crate::yaml`.
//!
//! Two things make it better than deserializing the text directly:
//! * every error is recorded with the position of the innermost node that
//!   caused it, and
//! * it *keeps going* after an error: a failing sequence element or map entry
//!   is recorded and skipped, and unknown struct fields are all reported (the
//!   struct's own visitor never sees them). So one run reports every problem.
//!
//! Errors that are mere consequences of an already-recorded one (a struct
//! failing because its field failed) are not recorded twice.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, IntoDeserializer, Visitor};

use crate::error::Problem;
use crate::yaml::{Node, NodeKind, Plain, Pos, resolve_plain};

/// Problems recorded during one deserialization run.
#[derive(Default)]
pub(super) struct Sink {
    problems: RefCell<Vec<(Pos, Problem)>>,
}

impl Sink {
    fn len(&self) -> usize {
        self.problems.borrow().len()
    }
    fn push(&self, pos: Pos, problem: Problem) {
        self.problems.borrow_mut().push((pos, problem));
    }
    pub(super) fn into_problems(self) -> Vec<(Pos, Problem)> {
        self.problems.into_inner()
    }
}

/// The error type seen by serde. `recorded` errors were already written to
/// the sink and only unwind.
#[derive(Debug)]
pub(super) struct DeError {
    message: String,
    recorded: bool,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            recorded: false,
        }
    }
}

impl DeError {
    fn recorded() -> Self {
        DeError {
            message: String::from("(recorded)"),
            recorded: true,
        }
    }
}

/// Deserialize `T` from `node`, recording every problem in `sink`.
/// Returns `None` when anything was recorded.
pub(super) fn from_node<'de, T: de::Deserialize<'de>>(
    node: &'de Node,
    sink: &'de Sink,
) -> Option<T> {
    let before = sink.len();
    let previous = COLLECTING.replace(true);
    let result = T::deserialize(NodeDe { node, sink });
    COLLECTING.set(previous);
    match result {
        Ok(v) if sink.len() == before => Some(v),
        Ok(_) => None,
        Err(e) => {
            if !e.recorded {
                sink.push(node.pos, Problem::Serde(e.message));
            }
            None
        }
    }
}

thread_local! {
    /// True while `from_node` runs: errors are then already recorded in the
    /// sink, so [`lenient_vec`] may skip a failed element and go on.
    static COLLECTING: Cell<bool> = const { Cell::new(false) };
}

/// One element that, while collecting, swallows its (already recorded) error.
pub(crate) struct Lenient<T>(pub Option<T>);

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Lenient<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match T::deserialize(d) {
            Ok(v) => Ok(Lenient(Some(v))),
            Err(_) if COLLECTING.get() => Ok(Lenient(None)),
            Err(e) => Err(e),
        }
    }
}

/// `deserialize_with` for lists: a bad element does not stop its siblings
/// from being checked (see the module docs).
pub(crate) fn lenient_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: de::Deserializer<'de>,
    T: de::Deserialize<'de>,
{
    let items = Vec::<Lenient<T>>::deserialize(d)?;
    Ok(items.into_iter().filter_map(|item| item.0).collect())
}

/// `lenient_vec` for an optional list.
pub(crate) fn lenient_opt_vec<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: de::Deserializer<'de>,
    T: de::Deserialize<'de>,
{
    let items = Option::<Vec<Lenient<T>>>::deserialize(d)?;
    Ok(items.map(|items| items.into_iter().filter_map(|item| item.0).collect()))
}

struct NodeDe<'a> {
    node: &'a Node,
    sink: &'a Sink,
}

impl<'a> NodeDe<'a> {
    /// Turn an error that escaped a visitor into a recorded one.
    fn settle<T>(&self, before: usize, result: Result<T, DeError>) -> Result<T, DeError> {
        match result {
            Ok(v) => Ok(v),
            Err(e) if e.recorded => Err(e),
            Err(_) if self.sink.len() > before => Err(DeError::recorded()),
            Err(e) => {
                self.sink.push(self.node.pos, Problem::Serde(e.message));
                Err(DeError::recorded())
            }
        }
    }

    fn unexpected(&self) -> de::Unexpected<'a> {
        match &self.node.kind {
            NodeKind::Scalar { value, plain } => match resolve_plain(value, *plain) {
                Plain::Null => de::Unexpected::Unit,
                Plain::Bool(b) => de::Unexpected::Bool(b),
                Plain::Int(i) => de::Unexpected::Signed(i),
                Plain::UInt(u) => de::Unexpected::Unsigned(u),
                Plain::Float(f) => de::Unexpected::Float(f),
                Plain::Str => de::Unexpected::Str(value),
            },
            NodeKind::Seq(_) => de::Unexpected::Seq,
            NodeKind::Map(_) => de::Unexpected::Map,
        }
    }

    fn any<V: Visitor<'a>>(&self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Scalar { value, plain } => match resolve_plain(value, *plain) {
                Plain::Null => visitor.visit_unit(),
                Plain::Bool(b) => visitor.visit_bool(b),
                Plain::Int(i) => visitor.visit_i64(i),
                Plain::UInt(u) => visitor.visit_u64(u),
                Plain::Float(f) => visitor.visit_f64(f),
                Plain::Str => visitor.visit_borrowed_str(value),
            },
            NodeKind::Seq(items) => visitor.visit_seq(SeqDe {
                items: items.iter(),
                sink: self.sink,
            }),
            NodeKind::Map(entries) => visitor.visit_map(MapDe::new(entries, self.sink, None, "")),
        }
    }

    /// A mapping, as a struct's `fields` (`struct_name` for messages) or,
    /// without fields, as a map; anything else is the wrong type.
    fn map<V: Visitor<'a>>(
        &self,
        visitor: V,
        fields: Option<&'static [&'static str]>,
        struct_name: &'static str,
    ) -> Result<V::Value, DeError> {
        let before = self.sink.len();
        let r = match &self.node.kind {
            NodeKind::Map(entries) => {
                visitor.visit_map(MapDe::new(entries, self.sink, fields, struct_name))
            }
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        };
        self.settle(before, r)
    }

    fn string<V: Visitor<'a>>(&self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            // Plain scalars such as `1.0` or `true` are accepted where text is
            // expected: `version: 1.0` means the string "1.0".
            NodeKind::Scalar { value, plain }
                if !matches!(resolve_plain(value, *plain), Plain::Null) =>
            {
                visitor.visit_borrowed_str(value)
            }
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
    }
}

macro_rules! forward_to_any {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.deserialize_any(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let before = self.sink.len();
        let r = self.any(visitor);
        self.settle(before, r)
    }

    forward_to_any! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_bytes deserialize_byte_buf
        deserialize_ignored_any
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let before = self.sink.len();
        let r = self.string(visitor);
        self.settle(before, r)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Scalar { value, plain } if resolve_plain(value, *plain) == Plain::Null => {
                let before = self.sink.len();
                let r = visitor.visit_none();
                self.settle(before, r)
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let before = self.sink.len();
        let r = visitor.visit_newtype_struct(NodeDe {
            node: self.node,
            sink: self.sink,
        });
        self.settle(before, r)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let before = self.sink.len();
        let r = match &self.node.kind {
            NodeKind::Seq(items) => visitor.visit_seq(SeqDe {
                items: items.iter(),
                sink: self.sink,
            }),
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        };
        self.settle(before, r)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.map(visitor, None, "")
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.map(visitor, Some(fields), name)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let before = self.sink.len();
        let r = match &self.node.kind {
            NodeKind::Scalar { value, .. } => {
                visitor.visit_enum(value.as_str().into_deserializer())
            }
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        };
        self.settle(before, r)
    }
}

struct SeqDe<'a> {
    items: std::slice::Iter<'a, Node>,
    sink: &'a Sink,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(node) => seed
                .deserialize(NodeDe {
                    node,
                    sink: self.sink,
                })
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
    sink: &'a Sink,
    fields: Option<&'static [&'static str]>,
    struct_name: &'static str,
}

impl<'a> MapDe<'a> {
    fn new(
        entries: &'a [(Node, Node)],
        sink: &'a Sink,
        fields: Option<&'static [&'static str]>,
        struct_name: &'static str,
    ) -> Self {
        MapDe {
            entries: entries.iter(),
            value: None,
            sink,
            fields,
            struct_name,
        }
    }
}

impl<'de> de::MapAccess<'de> for MapDe<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        loop {
            let Some((key, value)) = self.entries.next() else {
                return Ok(None);
            };
            if let Some(fields) = self.fields {
                let known = key.as_str().is_some_and(|k| fields.contains(&k));
                if !known {
                    self.sink.push(
                        key.pos,
                        Problem::UnknownField {
                            field: key.as_str().unwrap_or("?").to_string(),
                            context: self.struct_name,
                            expected: fields.to_vec(),
                        },
                    );
                    continue;
                }
            }
            self.value = Some(value);
            return seed
                .deserialize(NodeDe {
                    node: key,
                    sink: self.sink,
                })
                .map(Some);
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(node) => seed.deserialize(NodeDe {
                node,
                sink: self.sink,
            }),
            None => Err(de::Error::custom("value requested before key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}
