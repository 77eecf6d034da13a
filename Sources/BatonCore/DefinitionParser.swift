/// Parses and validates workflow definitions written in YAML or JSON.
///
/// Every problem is reported with the step, the field and the line:column of the offending node;
/// all problems found are returned together in one ``DefinitionError``.
///
/// ```swift
/// do {
///     let definition = try DefinitionParser.parse(yamlText)
///     print(definition.name, definition.steps.count)
/// } catch {
///     for issue in error.issues { print(issue) }   // step 'b', field 'depends_on' at 4:18: unknown step 'x'
/// }
/// ```
public enum DefinitionParser {
    /// Parses `source` (YAML, or JSON which is read as YAML flow style) into a validated definition.
    public static func parse(_ source: String) throws(DefinitionError) -> WorkflowDefinition {
        let reader = DefinitionReader(source: source)
        guard let definition = reader.read(), reader.issues.isEmpty else {
            throw DefinitionError(issues: reader.issues, cause: reader.cause)
        }
        return definition
    }
}
