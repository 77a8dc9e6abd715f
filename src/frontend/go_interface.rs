//! The Go interface frontend: tree-sitter-go parses the file; every
//! interface whose methods take `context.Context` first and return `error`
//! last becomes a service.

use tree_sitter::{Node, Parser};

use super::definition::{
    Definition, Enum, EnumValue, Field, GoFile, GoType, Method, Pos, Service, Struct, Ty,
};
use crate::diagnostic::Diagnostic;
use crate::ir::Scalar;

const HELP_TYPES: &str = "supported: bool, ints, uints, floats, string, []byte, slices, maps with string or integer keys, \
     time.Time, time.Duration, and structs and named integer types declared in this file";

pub fn parse(file: &str, source: &str) -> Result<Definition, Diagnostic> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_go::LANGUAGE.into())
        .expect("the Go grammar loads");
    let tree = parser
        .parse(source, None)
        .expect("parsing is not cancelled");
    let root = tree.root_node();
    let mut reader = Reader {
        src: source,
        def: Definition {
            file: file.to_string(),
            ..Definition::default()
        },
        declared: Vec::new(),
    };
    if let Some(bad) = first_error(root) {
        let pos = reader.pos(bad);
        return Err(reader.def.error(
            pos,
            if bad.is_missing() {
                format!("syntax error: missing {}", bad.kind())
            } else {
                "syntax error".to_string()
            },
            "the file must be valid Go",
        ));
    }
    reader.def.go = Some(reader.go_file(root));
    // Named integer types first: constants and fields refer to them.
    let mut named_ints: Vec<(String, Pos, String)> = Vec::new();
    let mut cursor = root.walk();
    for decl in root.named_children(&mut cursor) {
        if decl.kind() != "type_declaration" {
            continue;
        }
        let mut c = decl.walk();
        for spec in decl.named_children(&mut c) {
            if spec.kind() != "type_spec" {
                continue;
            }
            let name = reader.text(spec.child_by_field_name("name").expect("named"));
            let ty = spec.child_by_field_name("type").expect("typed");
            if ty.kind() == "type_identifier" && is_integer(reader.text(ty)) {
                named_ints.push((name.to_string(), reader.pos(spec), reader.doc(decl, spec)));
            }
            if ty.kind() == "struct_type"
                || ty.kind() == "type_identifier" && is_integer(reader.text(ty))
            {
                reader.declared.push(name.to_string());
            }
        }
    }
    for (name, pos, doc) in &named_ints {
        reader.def.enums.push(Enum {
            name: name.clone(),
            doc: doc.clone(),
            pos: *pos,
            values: Vec::new(),
        });
    }
    let mut cursor = root.walk();
    for decl in root.named_children(&mut cursor) {
        match decl.kind() {
            "type_declaration" => reader.type_declaration(decl)?,
            "const_declaration" => reader.const_declaration(decl)?,
            _ => {}
        }
    }
    for e in &reader.def.enums {
        if e.values.is_empty() {
            return Err(reader.def.error(
                e.pos,
                format!(
                    "type {} has no constants, so it cannot become an enum",
                    e.name
                ),
                format!(
                    "declare its values: const ( {}A {} = iota; {}B )",
                    e.name, e.name, e.name
                ),
            ));
        }
    }
    Ok(reader.def)
}

fn first_error(node: Node<'_>) -> Option<Node<'_>> {
    if node.is_error() || node.is_missing() {
        return Some(node);
    }
    if !node.has_error() {
        return None;
    }
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
    children.into_iter().find_map(first_error)
}

fn is_integer(name: &str) -> bool {
    matches!(
        name,
        "int"
            | "int8"
            | "int16"
            | "int32"
            | "int64"
            | "uint"
            | "uint8"
            | "uint16"
            | "uint32"
            | "uint64"
    )
}

struct Reader<'a> {
    src: &'a str,
    def: Definition,
    /// Structs and named integer types the file declares.
    declared: Vec<String>,
}

impl<'a> Reader<'a> {
    /// The package clause and every top-level name of the file.
    fn go_file(&self, root: Node<'_>) -> GoFile {
        let mut file = GoFile::default();
        let mut cursor = root.walk();
        for decl in root.named_children(&mut cursor) {
            match decl.kind() {
                "package_clause" => {
                    if let Some(name) = decl.named_child(0) {
                        file.package = self.text(name).to_string();
                        file.package_pos = self.pos(name);
                    }
                }
                "function_declaration" => {
                    if let Some(name) = decl.child_by_field_name("name") {
                        file.names.push(self.text(name).to_string());
                    }
                }
                "type_declaration" | "const_declaration" | "var_declaration" => {
                    let mut specs = Vec::new();
                    let mut c = decl.walk();
                    for spec in decl.named_children(&mut c) {
                        if spec.kind() == "var_spec_list" {
                            let mut c2 = spec.walk();
                            specs.extend(spec.named_children(&mut c2));
                        } else {
                            specs.push(spec);
                        }
                    }
                    for spec in specs {
                        let mut c = spec.walk();
                        for name in spec.children_by_field_name("name", &mut c) {
                            file.names.push(self.text(name).to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        file
    }

    fn text(&self, node: Node<'_>) -> &'a str {
        &self.src[node.byte_range()]
    }

    fn pos(&self, node: Node<'_>) -> Pos {
        let p = node.start_position();
        let line_start = self.src[..node.start_byte()]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        Pos {
            line: p.row + 1,
            column: self.src[line_start..node.start_byte()].chars().count() + 1,
        }
    }

    /// The `//` comment lines right above `node` (or above its declaration
    /// when the node is the first of a declaration without parentheses).
    fn doc(&self, decl: Node<'_>, node: Node<'_>) -> String {
        let anchor = if decl.start_position().row == node.start_position().row {
            decl
        } else {
            node
        };
        let mut lines = Vec::new();
        let mut row = anchor.start_position().row;
        let mut prev = anchor.prev_sibling();
        while let Some(c) = prev {
            if c.kind() != "comment" || c.end_position().row + 1 != row {
                break;
            }
            let text = self.text(c);
            let Some(line) = text.strip_prefix("//") else {
                break;
            };
            lines.push(
                line.strip_prefix(' ')
                    .unwrap_or(line)
                    .trim_end()
                    .to_string(),
            );
            row = c.start_position().row;
            prev = c.prev_sibling();
        }
        lines.reverse();
        lines.join("\n")
    }

    fn type_declaration(&mut self, decl: Node<'_>) -> Result<(), Diagnostic> {
        let mut cursor = decl.walk();
        for spec in decl.named_children(&mut cursor) {
            if spec.kind() == "type_alias" {
                continue;
            }
            let name = self
                .text(spec.child_by_field_name("name").expect("named"))
                .to_string();
            let ty = spec.child_by_field_name("type").expect("typed");
            let doc = self.doc(decl, spec);
            match ty.kind() {
                "interface_type" => {
                    if let Some(params) = spec.child_by_field_name("type_parameters") {
                        return Err(self.def.error(
                            self.pos(params),
                            format!("interface {name} is generic"),
                            "a service has concrete types: remove the type parameters",
                        ));
                    }
                    let service = self.interface(&name, doc, spec, ty)?;
                    self.def.services.push(service);
                }
                "struct_type" => {
                    let fields = self.struct_fields(ty)?;
                    self.def.structs.push(Struct {
                        name,
                        doc,
                        pos: self.pos(spec),
                        fields,
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn interface(
        &self,
        name: &str,
        doc: String,
        spec: Node<'_>,
        ty: Node<'_>,
    ) -> Result<Service, Diagnostic> {
        let mut methods = Vec::new();
        let mut cursor = ty.walk();
        for elem in ty.named_children(&mut cursor) {
            match elem.kind() {
                "method_elem" => methods.push(self.method(elem, ty)?),
                "type_elem" => {
                    return Err(self.def.error(
                        self.pos(elem),
                        format!("interface {name} embeds {}", self.text(elem)),
                        "list every method of the service in the interface itself",
                    ));
                }
                _ => {}
            }
        }
        if methods.is_empty() {
            return Err(self.def.error(
                self.pos(spec),
                format!("interface {name} has no methods"),
                "add methods such as Sum(ctx context.Context, a, b int64) (int64, error)",
            ));
        }
        Ok(Service {
            name: name.to_string(),
            doc,
            pos: self.pos(spec),
            methods,
        })
    }

    fn method(&self, elem: Node<'_>, iface: Node<'_>) -> Result<Method, Diagnostic> {
        let name = self
            .text(elem.child_by_field_name("name").expect("named"))
            .to_string();
        let pos = self.pos(elem);
        let param_list = elem.child_by_field_name("parameters").expect("params");
        let go_signature = self.src[param_list.start_byte()..elem.end_byte()].to_string();
        let mut params = self.parameters(param_list)?;
        let first_is_context = params.first().is_some_and(|(_, ty)| {
            ty.kind() == "qualified_type" && self.text(*ty) == "context.Context"
        });
        if !first_is_context {
            let at = params.first().map_or(pos, |(p, _)| self.pos(*p));
            return Err(self.def.error(
                at,
                format!("method {name} must take a context.Context first"),
                format!("write {name}(ctx context.Context, …)"),
            ));
        }
        params.remove(0);
        let results = match elem.child_by_field_name("result") {
            None => Vec::new(),
            Some(r) if r.kind() == "parameter_list" => self.parameters(r)?,
            Some(r) => vec![(r, r)],
        };
        let last_is_error = results
            .last()
            .is_some_and(|(_, ty)| self.text(*ty) == "error");
        if !last_is_error {
            let at = results.last().map_or(pos, |(p, _)| self.pos(*p));
            return Err(self.def.error(
                at,
                format!("method {name} must return an error last"),
                format!("write {name}(…) (…, error)"),
            ));
        }
        let mut fields = Vec::new();
        for (node, ty) in &params {
            fields.push(self.field(*node, *ty, true)?);
        }
        let mut out = Vec::new();
        for (node, ty) in &results[..results.len() - 1] {
            out.push(self.field(*node, *ty, node != ty)?);
        }
        Ok(Method {
            name,
            doc: self.doc(iface, elem),
            pos,
            params: fields,
            results: out,
            go_signature,
            rust: None,
        })
    }

    /// Each parameter as (the node naming it, its type); `a, b int64` gives two.
    fn parameters(&self, list: Node<'a>) -> Result<Vec<(Node<'a>, Node<'a>)>, Diagnostic> {
        let mut out = Vec::new();
        let mut cursor = list.walk();
        for decl in list.named_children(&mut cursor) {
            if decl.kind() == "variadic_parameter_declaration" {
                return Err(self.def.error(
                    self.pos(decl),
                    "variadic parameters have no protobuf form",
                    "take a slice instead of ...T",
                ));
            }
            if decl.kind() != "parameter_declaration" {
                continue;
            }
            let ty = decl.child_by_field_name("type").expect("typed");
            let mut c = decl.walk();
            let names: Vec<Node<'a>> = decl.children_by_field_name("name", &mut c).collect();
            if names.is_empty() {
                out.push((ty, ty));
            }
            for n in names {
                out.push((n, ty));
            }
        }
        Ok(out)
    }

    /// A parameter or result as a field; `named` is false for unnamed results.
    fn field(&self, name: Node<'_>, ty: Node<'_>, named: bool) -> Result<Field, Diagnostic> {
        let field_name = if named {
            self.text(name).to_string()
        } else {
            String::new()
        };
        if field_name == "_" {
            return Err(self.def.error(
                self.pos(name),
                "a parameter named _ cannot become a field",
                "give it a name",
            ));
        }
        let (ty, go) = self.ty(ty)?;
        Ok(Field {
            name: field_name,
            doc: String::new(),
            ty,
            pos: self.pos(name),
            go: Some(go),
            rust: None,
        })
    }

    fn struct_fields(&self, st: Node<'_>) -> Result<Vec<Field>, Diagnostic> {
        let mut fields = Vec::new();
        let Some(list) = st.named_child(0) else {
            return Ok(fields);
        };
        let mut cursor = list.walk();
        for decl in list.named_children(&mut cursor) {
            if decl.kind() != "field_declaration" {
                continue;
            }
            let ty = decl.child_by_field_name("type").expect("typed");
            let mut c = decl.walk();
            let names: Vec<Node<'_>> = decl.children_by_field_name("name", &mut c).collect();
            if names.is_empty() {
                return Err(self.def.error(
                    self.pos(decl),
                    format!("embedded field {} has no protobuf form", self.text(ty)),
                    "give the field a name",
                ));
            }
            let doc = self.doc(list, decl);
            for n in names {
                let name = self.text(n);
                // Unexported fields are private to Go code: they do not cross the wire.
                if !name.starts_with(|c: char| c.is_uppercase()) {
                    continue;
                }
                let (ty, go) = self.ty(ty)?;
                fields.push(Field {
                    name: name.to_string(),
                    doc: doc.clone(),
                    ty,
                    pos: self.pos(n),
                    go: Some(go),
                    rust: None,
                });
            }
        }
        Ok(fields)
    }

    /// A type as the field it becomes and as written.
    fn ty(&self, node: Node<'_>) -> Result<(Ty, GoType), Diagnostic> {
        let text = self.text(node);
        let unsupported = |what: &str, help: &str| {
            Err(self.def.error(
                self.pos(node),
                format!("{what} ({text}) has no protobuf form"),
                help,
            ))
        };
        let basic = |s: Scalar| Ok((Ty::Scalar(s), GoType::Basic(text.to_string())));
        match node.kind() {
            "type_identifier" => match text {
                "bool" => basic(Scalar::Bool),
                "string" => basic(Scalar::String),
                "int" | "int64" => basic(Scalar::Int64),
                "int8" | "int16" | "int32" | "rune" => basic(Scalar::Int32),
                "uint" | "uint64" => basic(Scalar::Uint64),
                "uint8" | "uint16" | "uint32" | "byte" => basic(Scalar::Uint32),
                "float32" => basic(Scalar::Float),
                "float64" => basic(Scalar::Double),
                "any" => unsupported("an empty interface", "use a concrete type or a struct"),
                "error" => unsupported("an error value", "return errors as the last result only"),
                "uintptr" | "complex64" | "complex128" => unsupported("this type", HELP_TYPES),
                name => {
                    if self.declared.iter().any(|d| d == name) {
                        let go = if self.def.enums.iter().any(|e| e.name == name) {
                            GoType::Enum(name.to_string())
                        } else {
                            GoType::Struct(name.to_string())
                        };
                        Ok((Ty::Named(name.to_string()), go))
                    } else {
                        Err(self.def.error(
                            self.pos(node),
                            format!("type '{name}' is not declared in this file"),
                            "declare it in this file as a struct or a named integer type with constants",
                        ))
                    }
                }
            },
            "qualified_type" => match text {
                "time.Time" => Ok((Ty::Timestamp, GoType::Time)),
                "time.Duration" => Ok((Ty::Duration, GoType::Duration)),
                _ => Err(self.def.error(
                    self.pos(node),
                    format!("type {text} comes from another package"),
                    "declare the type in this file, or use time.Time or time.Duration",
                )),
            },
            "pointer_type" => {
                let inner = node.named_child(0).expect("pointee");
                let (ty, go) = self.ty(inner)?;
                let pointer = GoType::Pointer(Box::new(go.clone()));
                match (ty, &go) {
                    // A message has presence already.
                    (t @ Ty::Named(_), GoType::Struct(_))
                    | (t @ (Ty::Timestamp | Ty::Duration), _) => Ok((t, pointer)),
                    (t @ (Ty::Scalar(_) | Ty::Named(_)), _)
                        if !matches!(t, Ty::Scalar(Scalar::Bytes)) =>
                    {
                        Ok((Ty::Optional(Box::new(t)), pointer))
                    }
                    _ => unsupported(
                        "a pointer to a slice, map or pointer",
                        "use the value itself: empty means absent",
                    ),
                }
            }
            "slice_type" => {
                let elem = node.child_by_field_name("element").expect("element");
                if matches!(self.text(elem), "byte" | "uint8") {
                    return Ok((Ty::Scalar(Scalar::Bytes), GoType::Bytes));
                }
                let (ty, go) = self.ty(elem)?;
                Ok((Ty::List(Box::new(ty)), GoType::Slice(Box::new(go))))
            }
            "map_type" => {
                let (key, key_go) = self.ty(node.child_by_field_name("key").expect("key"))?;
                let Ty::Scalar(k) = key else {
                    return unsupported(
                        "a map whose key is not a string or integer",
                        "key the map by string or integer",
                    );
                };
                if matches!(k, Scalar::Float | Scalar::Double | Scalar::Bytes) {
                    return unsupported(
                        "a map whose key is not a string or integer",
                        "key the map by string or integer",
                    );
                }
                let (value, value_go) =
                    self.ty(node.child_by_field_name("value").expect("value"))?;
                Ok((
                    Ty::Map(k, Box::new(value)),
                    GoType::Map(Box::new(key_go), Box::new(value_go)),
                ))
            }
            "channel_type" => unsupported(
                "a channel",
                "send a list, or make the method a stream in a .proto",
            ),
            "function_type" => unsupported("a function", "pass data, not behaviour"),
            "interface_type" => unsupported("an interface", "use a concrete type or a struct"),
            "array_type" => unsupported("a fixed-size array", "use a slice"),
            "generic_type" => unsupported("a generic type", "use a concrete type"),
            "struct_type" => {
                unsupported("an anonymous struct", "declare the struct as a named type")
            }
            _ => unsupported("this type", HELP_TYPES),
        }
    }

    /// Constants of a named integer type become its enum values.
    fn const_declaration(&mut self, decl: Node<'_>) -> Result<(), Diagnostic> {
        let mut iota: i64 = 0;
        let mut current: Option<(String, Node<'_>)> = None;
        let mut cursor = decl.walk();
        for spec in decl.named_children(&mut cursor) {
            if spec.kind() != "const_spec" {
                continue;
            }
            if let Some(ty) = spec.child_by_field_name("type") {
                current = Some((self.text(ty).to_string(), spec));
            } else if spec.child_by_field_name("value").is_some() {
                current = None;
            }
            let Some((type_name, expr_spec)) = current.clone() else {
                iota += 1;
                continue;
            };
            let Some(index) = self.def.enums.iter().position(|e| e.name == type_name) else {
                iota += 1;
                continue;
            };
            let value = expr_spec.child_by_field_name("value").ok_or_else(|| {
                self.def.error(
                    self.pos(spec),
                    "an enum constant needs a value",
                    "write = iota or a number",
                )
            })?;
            let number = self.const_value(value, iota)?;
            let number = i32::try_from(number).map_err(|_| {
                self.def.error(
                    self.pos(spec),
                    format!("{number} does not fit an enum value (int32)"),
                    "use smaller numbers",
                )
            })?;
            let doc = self.doc(decl, spec);
            let mut c = spec.walk();
            for name in spec.children_by_field_name("name", &mut c) {
                if name.kind() != "identifier" {
                    continue;
                }
                let value = EnumValue {
                    name: self.text(name).to_string(),
                    doc: doc.clone(),
                    number,
                };
                self.def.enums[index].values.push(value);
            }
            iota += 1;
        }
        Ok(())
    }

    /// `iota`, `iota + N`, `N + iota` or an integer literal.
    fn const_value(&self, list: Node<'_>, iota: i64) -> Result<i64, Diagnostic> {
        let text: String = self
            .text(list)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let parse = |s: &str| -> Option<i64> {
            if s == "iota" {
                Some(iota)
            } else {
                s.parse().ok()
            }
        };
        let value = if let Some((a, b)) = text.split_once('+') {
            parse(a).zip(parse(b)).map(|(a, b)| a + b)
        } else {
            parse(&text)
        };
        value.ok_or_else(|| {
            self.def.error(
                self.pos(list),
                format!("enum constant value {text} is not an integer kitgen can read"),
                "use iota, iota + N or an integer literal",
            )
        })
    }
}
