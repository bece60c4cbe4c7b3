//! camelCase field names on the JS side, in one place.
//!
//! Results reach JS through [`to_value`]: any `Serialize` value of the core
//! written as JSON with the field names of its structs (and of its enums'
//! struct variants) in camelCase: `start_ms` → `startMs`. Map keys are data
//! (factor names such as `price_talk`, product ids, column names) and strings
//! are values (`"on_plan"`, `"conversion_drop"`): both are left as they are.
//!
//! Objects a result gave that come back (a moment, a run-sheet, a digest, a
//! manifest) are read by [`from_value`], the mirror image: a struct's
//! camelCase keys are renamed to its fields (its snake_case names are
//! accepted too), map keys are left as they are. [`to_core`] gives such an
//! object in the core's own form for the core calls that read JSON.
//!
//! The module depends on serde, serde_json and `vap_core::options` only, so
//! that its unit tests (at the bottom) run without the N-API runtime:
//! `tests/camel.rs` includes this file.

use serde::de::value::StringDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::ser::{self, Impossible, Serialize};
use serde::Deserializer as _;
use serde_json::{Error, Map, Value};

/// A snake_case field name in camelCase: the options' rule
/// (`room_id` → `roomId`, `p50_ms` → `p50Ms`).
pub use vap_core::options::snake_to_camel;

// ------------------------------------------------------------------ results

/// `v` as JSON with its structs' field names in camelCase (map keys and
/// strings as they are): what every result object of the Node binding is.
pub fn to_value<T: Serialize + ?Sized>(v: &T) -> Result<Value, Error> {
    v.serialize(CamelSerializer)
}

/// serde_json's value serializer, but for the field names.
struct CamelSerializer;

/// Scalars are written exactly as serde_json writes them.
macro_rules! scalars {
    ($($method:ident($t:ty)),* $(,)?) => {
        $(fn $method(self, v: $t) -> Result<Value, Error> {
            serde_json::value::Serializer.$method(v)
        })*
    };
}

impl ser::Serializer for CamelSerializer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = VariantSerializer<SeqSerializer>;
    type SerializeMap = MapSerializer;
    type SerializeStruct = StructSerializer;
    type SerializeStructVariant = VariantSerializer<StructSerializer>;

    scalars! {
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
    }

    fn serialize_none(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Value, Error> {
        v.serialize(self)
    }

    fn serialize_unit(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, Error> {
        Ok(Value::Null)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        Ok(Value::String(variant.to_string()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        v: &T,
    ) -> Result<Value, Error> {
        v.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<Value, Error> {
        let mut m = Map::new();
        m.insert(variant.to_string(), v.serialize(self)?);
        Ok(Value::Object(m))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer, Error> {
        Ok(SeqSerializer(Vec::with_capacity(len.unwrap_or(0))))
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSerializer<SeqSerializer>, Error> {
        Ok(VariantSerializer {
            variant,
            inner: self.serialize_seq(Some(len))?,
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<MapSerializer, Error> {
        Ok(MapSerializer {
            map: Map::new(),
            key: None,
        })
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<StructSerializer, Error> {
        Ok(StructSerializer(Map::new()))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<VariantSerializer<StructSerializer>, Error> {
        Ok(VariantSerializer {
            variant,
            inner: StructSerializer(Map::new()),
        })
    }
}

/// The items of a sequence or tuple.
struct SeqSerializer(Vec<Value>);

impl ser::SerializeSeq for SeqSerializer {
    type Ok = Value;
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.0.push(to_value(v)?);
        Ok(())
    }

    fn end(self) -> Result<Value, Error> {
        Ok(Value::Array(self.0))
    }
}

impl ser::SerializeTuple for SeqSerializer {
    type Ok = Value;
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, v)
    }

    fn end(self) -> Result<Value, Error> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqSerializer {
    type Ok = Value;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, v)
    }

    fn end(self) -> Result<Value, Error> {
        ser::SerializeSeq::end(self)
    }
}

/// A map: its keys are data, kept as they are.
struct MapSerializer {
    map: Map<String, Value>,
    key: Option<String>,
}

impl ser::SerializeMap for MapSerializer {
    type Ok = Value;
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("a map value without its key"))?;
        self.map.insert(key, to_value(v)?);
        Ok(())
    }

    fn end(self) -> Result<Value, Error> {
        Ok(Value::Object(self.map))
    }
}

/// A struct: its field names in camelCase.
struct StructSerializer(Map<String, Value>);

impl ser::SerializeStruct for StructSerializer {
    type Ok = Value;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.0.insert(snake_to_camel(key), to_value(v)?);
        Ok(())
    }

    fn end(self) -> Result<Value, Error> {
        Ok(Value::Object(self.0))
    }
}

/// An enum's tuple or struct variant: `{ variant: content }` (the variant's
/// name is the enum's value, kept as it is).
struct VariantSerializer<S> {
    variant: &'static str,
    inner: S,
}

impl<S> VariantSerializer<S> {
    fn wrap(variant: &'static str, content: Value) -> Value {
        let mut m = Map::new();
        m.insert(variant.to_string(), content);
        Value::Object(m)
    }
}

impl ser::SerializeTupleVariant for VariantSerializer<SeqSerializer> {
    type Ok = Value;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(&mut self.inner, v)
    }

    fn end(self) -> Result<Value, Error> {
        Ok(Self::wrap(
            self.variant,
            ser::SerializeSeq::end(self.inner)?,
        ))
    }
}

impl ser::SerializeStructVariant for VariantSerializer<StructSerializer> {
    type Ok = Value;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, v)
    }

    fn end(self) -> Result<Value, Error> {
        Ok(Self::wrap(
            self.variant,
            ser::SerializeStruct::end(self.inner)?,
        ))
    }
}

/// A map key as serde_json writes it: a string, a number or a boolean as
/// text, a unit variant by its name.
struct KeySerializer;

fn key_error() -> Error {
    <Error as ser::Error>::custom("key must be a string")
}

/// Keys that are numbers or booleans become their text.
macro_rules! text_keys {
    ($($method:ident($t:ty)),* $(,)?) => {
        $(fn $method(self, v: $t) -> Result<String, Error> {
            Ok(v.to_string())
        })*
    };
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Impossible<String, Error>;
    type SerializeTuple = Impossible<String, Error>;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;

    text_keys! {
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_char(char),
        serialize_str(&str),
    }

    fn serialize_f32(self, v: f32) -> Result<String, Error> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<String, Error> {
        serde_json::Number::from_f64(v)
            .map(|n| n.to_string())
            .ok_or_else(|| <Error as ser::Error>::custom("a float key must be finite"))
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Error> {
        Err(key_error())
    }

    fn serialize_none(self) -> Result<String, Error> {
        Err(key_error())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<String, Error> {
        v.serialize(self)
    }

    fn serialize_unit(self) -> Result<String, Error> {
        Err(key_error())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Error> {
        Err(key_error())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_string())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        v: &T,
    ) -> Result<String, Error> {
        v.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _v: &T,
    ) -> Result<String, Error> {
        Err(key_error())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

// ------------------------------------------------------------------ values coming back

/// Reads a `T` from JSON a result gave (its structs' keys in camelCase) or
/// written in the core's snake_case: a key of an object read as a struct is
/// renamed to the field whose camelCase name it is; map keys stay as they
/// are. An object read without its type known (an internally tagged enum
/// such as a live event, buffered by serde before its variant is known) has
/// its keys renamed by the options' rule (`camel_to_snake`).
pub fn from_value<T: DeserializeOwned>(v: Value) -> Result<T, Error> {
    T::deserialize(CamelDeserializer(v))
}

/// `v` in the core's serde form (snake_case field names) when it reads as a
/// `T` (the camelCase form a result gave, or the core's own), else as it came,
/// for the core to say what is wrong with it.
pub fn to_core<T: Serialize + DeserializeOwned>(v: Value) -> Value {
    match from_value::<T>(v.clone()) {
        Ok(t) => serde_json::to_value(&t).unwrap_or(v),
        Err(_) => v,
    }
}

/// A flat record (a live event: every key a field name, nothing nested) in
/// the core's form: camelCase keys by the options' rule (`camel_to_snake`),
/// as [`from_value`] reads an object whose type is not known, without the
/// round trip through its type (the core reads it and reports its problems).
pub fn record_to_core(v: Value) -> Value {
    vap_core::options::snake_keys(v, &[])
}

/// serde_json's `Value` as a deserializer, but for the keys of structs.
struct CamelDeserializer(Value);

/// How the keys of an object are read.
#[derive(Clone, Copy)]
enum Keys {
    /// A map's: data, as they are.
    Verbatim,
    /// A struct's: renamed to the field whose camelCase name they are.
    Fields(&'static [&'static str]),
    /// An object read without its type known: by `camel_to_snake`.
    Loose,
}

impl Keys {
    fn read(self, key: String) -> String {
        match self {
            Keys::Verbatim => key,
            Keys::Fields(fields) => {
                if fields.contains(&key.as_str()) {
                    return key;
                }
                match fields.iter().find(|f| snake_to_camel(f) == key) {
                    Some(f) => (*f).to_string(),
                    None => key,
                }
            }
            Keys::Loose => vap_core::options::camel_to_snake(&key),
        }
    }
}

/// Everything that is not an array or an object is read as serde_json reads
/// it (no key below it).
macro_rules! as_json {
    ($($method:ident),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.0.$method(visitor)
        })*
    };
}

fn visit_array<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value, Error> {
    let len = items.len();
    let mut seq = SeqDeserializer(items.into_iter());
    let out = visitor.visit_seq(&mut seq)?;
    if seq.0.len() == 0 {
        Ok(out)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in array"))
    }
}

fn visit_object<'de, V: Visitor<'de>>(
    m: Map<String, Value>,
    keys: Keys,
    visitor: V,
) -> Result<V::Value, Error> {
    let len = m.len();
    let mut map = MapDeserializer {
        iter: m.into_iter(),
        value: None,
        keys,
    };
    let out = visitor.visit_map(&mut map)?;
    if map.iter.len() == 0 {
        Ok(out)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in map"))
    }
}

impl<'de> de::Deserializer<'de> for CamelDeserializer {
    type Error = Error;

    as_json! {
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_unit,
        deserialize_identifier,
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(a) => visit_array(a, visitor),
            Value::Object(m) => visit_object(m, Keys::Loose, visitor),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(CamelDeserializer(other)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(a) => visit_array(a, visitor),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(m) => visit_object(m, Keys::Verbatim, visitor),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(m) => visit_object(m, Keys::Fields(fields), visitor),
            Value::Array(a) => visit_array(a, visitor),
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(m) if m.len() == 1 => {
                let (variant, content) = m.into_iter().next().expect("one entry");
                visitor.visit_enum(EnumDeserializer { variant, content })
            }
            Value::Object(_) => Err(de::Error::invalid_value(
                de::Unexpected::Map,
                &"a map with a single key",
            )),
            other => other.deserialize_enum(name, variants, visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

struct SeqDeserializer(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for SeqDeserializer {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(CamelDeserializer(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct MapDeserializer {
    iter: serde_json::map::IntoIter,
    value: Option<Value>,
    keys: Keys,
}

impl<'de> MapAccess<'de> for MapDeserializer {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(KeyDeserializer(self.keys.read(k)))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(CamelDeserializer(v)),
            None => Err(de::Error::custom("a map value without its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// A map key: a string, read as a number or a boolean where one is wanted
/// (as serde_json reads keys).
struct KeyDeserializer(String);

/// Keys read as numbers or booleans.
macro_rules! parsed_keys {
    ($($method:ident => $visit:ident),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.0.parse() {
                Ok(x) => visitor.$visit(x),
                Err(_) => Err(de::Error::invalid_value(de::Unexpected::Str(&self.0), &visitor)),
            }
        })*
    };
}

impl<'de> de::Deserializer<'de> for KeyDeserializer {
    type Error = Error;

    parsed_keys! {
        deserialize_bool => visit_bool,
        deserialize_i8 => visit_i8,
        deserialize_i16 => visit_i16,
        deserialize_i32 => visit_i32,
        deserialize_i64 => visit_i64,
        deserialize_i128 => visit_i128,
        deserialize_u8 => visit_u8,
        deserialize_u16 => visit_u16,
        deserialize_u32 => visit_u32,
        deserialize_u64 => visit_u64,
        deserialize_u128 => visit_u128,
        deserialize_f32 => visit_f32,
        deserialize_f64 => visit_f64,
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

/// An externally tagged enum's `{ variant: content }`.
struct EnumDeserializer {
    variant: String,
    content: Value,
}

impl<'de> EnumAccess<'de> for EnumDeserializer {
    type Error = Error;
    type Variant = VariantDeserializer;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantDeserializer), Error> {
        let variant: StringDeserializer<Error> = self.variant.into_deserializer();
        let v = seed.deserialize(variant)?;
        Ok((v, VariantDeserializer(self.content)))
    }
}

/// The content of an enum's variant.
struct VariantDeserializer(Value);

impl<'de> VariantAccess<'de> for VariantDeserializer {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        <() as de::Deserialize>::deserialize(CamelDeserializer(self.0))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(CamelDeserializer(self.0))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        CamelDeserializer(self.0).deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        CamelDeserializer(self.0).deserialize_struct("", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Status {
        OnPlan,
        ConversionDrop,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Inner {
        start_ms: i64,
        p50_ms: Option<f64>,
        status: Status,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Time {
        At(i64),
        Span(i64, i64),
        Window { start_ms: i64, end_ms: i64 },
        Nothing,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Event {
        Comment { ts_ms: i64, viewer_id: String },
        Order { ts_ms: i64, product_id: String },
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Outer {
        room_id: String,
        items: Vec<Inner>,
        best_item: Option<Inner>,
        no_item: Option<Inner>,
        by_factor: BTreeMap<String, Inner>,
        by_bin: BTreeMap<i64, f64>,
        plain: HashMap<String, String>,
        times: Vec<Time>,
        events: Vec<Event>,
        pair: (i64, String),
        #[serde(default)]
        gmv_7d: f64,
    }

    fn sample() -> Outer {
        let inner = |start_ms, status| Inner {
            start_ms,
            p50_ms: Some(1.5),
            status,
        };
        Outer {
            room_id: "r1".into(),
            items: vec![inner(1, Status::OnPlan)],
            best_item: Some(inner(2, Status::ConversionDrop)),
            no_item: None,
            by_factor: BTreeMap::from([("price_talk".into(), inner(3, Status::OnPlan))]),
            by_bin: BTreeMap::from([(5, 0.5)]),
            plain: HashMap::from([("room_id".into(), "on_plan".into())]),
            times: vec![
                Time::At(1),
                Time::Span(1, 2),
                Time::Window {
                    start_ms: 1,
                    end_ms: 2,
                },
                Time::Nothing,
            ],
            events: vec![
                Event::Comment {
                    ts_ms: 1,
                    viewer_id: "v_1".into(),
                },
                Event::Order {
                    ts_ms: 2,
                    product_id: "p_1".into(),
                },
            ],
            pair: (7, "x_y".into()),
            gmv_7d: 2.0,
        }
    }

    fn camel() -> Value {
        json!({
            "roomId": "r1",
            "items": [{ "startMs": 1, "p50Ms": 1.5, "status": "on_plan" }],
            "bestItem": { "startMs": 2, "p50Ms": 1.5, "status": "conversion_drop" },
            "noItem": null,
            "byFactor": { "price_talk": { "startMs": 3, "p50Ms": 1.5, "status": "on_plan" } },
            "byBin": { "5": 0.5 },
            "plain": { "room_id": "on_plan" },
            "times": [
                { "at": 1 },
                { "span": [1, 2] },
                { "window": { "startMs": 1, "endMs": 2 } },
                "nothing"
            ],
            "events": [
                { "type": "comment", "tsMs": 1, "viewerId": "v_1" },
                { "type": "order", "tsMs": 2, "productId": "p_1" }
            ],
            "pair": [7, "x_y"],
            "gmv7d": 2.0
        })
    }

    #[test]
    fn names_in_camel_case() {
        assert_eq!(snake_to_camel("room_id"), "roomId");
        assert_eq!(snake_to_camel("p50_ms"), "p50Ms");
        assert_eq!(snake_to_camel("gmv_7d"), "gmv7d");
        assert_eq!(snake_to_camel("already"), "already");
        assert_eq!(snake_to_camel("_private"), "_private");
        assert_eq!(snake_to_camel("trailing_"), "trailing_");
        assert_eq!(snake_to_camel("a__b"), "a_B");
    }

    #[test]
    fn struct_fields_are_renamed_map_keys_and_strings_are_not() {
        // Nested structs in vecs, options and maps; map keys (strings or
        // numbers) and enum values kept; tagged enums' fields renamed.
        assert_eq!(to_value(&sample()).unwrap(), camel());
    }

    #[test]
    fn only_field_names_differ_from_serde_json() {
        let plain = serde_json::to_value(sample()).unwrap();
        fn keys(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => m.iter().for_each(|(k, x)| {
                    out.push(k.replace('_', "").to_lowercase());
                    keys(x, out)
                }),
                Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
                _ => {}
            }
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        keys(&plain, &mut a);
        keys(&to_value(&sample()).unwrap(), &mut b);
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn camel_case_and_snake_case_both_read_back() {
        assert_eq!(from_value::<Outer>(camel()).unwrap(), sample());
        let snake = serde_json::to_value(sample()).unwrap();
        assert_eq!(from_value::<Outer>(snake.clone()).unwrap(), sample());
        assert_eq!(to_core::<Outer>(camel()), snake);
    }

    #[test]
    fn what_does_not_read_comes_back_as_it_came() {
        let bad = json!({ "roomId": 1 });
        assert!(from_value::<Outer>(bad.clone()).is_err());
        assert_eq!(to_core::<Outer>(bad.clone()), bad);
        // an unknown key is the type's business (serde's error names it)
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Strict {
            start_ms: i64,
        }
        let e = from_value::<Strict>(json!({ "startMs": 1, "colour": 2 })).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        assert_eq!(
            from_value::<Strict>(json!({ "startMs": 1 }))
                .unwrap()
                .start_ms,
            1
        );
    }

    #[test]
    fn scalars_and_keys_as_serde_json_writes_them() {
        assert_eq!(to_value(&f64::NAN).unwrap(), Value::Null);
        assert_eq!(to_value(&(1u64 << 60)).unwrap(), json!(1u64 << 60));
        assert_eq!(
            to_value(&BTreeMap::from([(true, 1)])).unwrap(),
            json!({ "true": 1 })
        );
        assert!(to_value(&BTreeMap::from([((1, 2), 1)])).is_err());
        let m: BTreeMap<bool, i64> = from_value(json!({ "true": 1 })).unwrap();
        assert_eq!(m, BTreeMap::from([(true, 1)]));
    }
}
