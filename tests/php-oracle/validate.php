<?php
// The reference for Afacturar's semantic 400: justinrainbow/json-schema 5.2 (Debian's
// php-json-schema), run over the project's schema files unchanged.
//
// Reads JSON lines on stdin, one document each:
//   {"schema": "afacturar/acuse_recibo_fev.data", "text": "<raw JSON text>"}
//       the text is decoded with json_decode() as Afacturar decodes the `data` field;
//   {"schema": "afacturar/acuse_recibo_fev.request", "fields": {"name": "value", ...}}
//       form fields (strings, as PHP's $_POST holds them), validated as an object;
//   "text_base64" and "fields_base64" instead: the same, the text or each value given in
//       base64, for bytes a JSON line cannot carry (invalid UTF-8, as $_POST may hold it).
// Writes one JSON line per document, in order:
//   {"errors": [{"property": "...", "message": "..."}, ...]}   the library's errors, in order
//   {"decode_error": "..."}                                    json_last_error_msg()
//
// Usage: php tests/php-oracle/validate.php SCHEMAS_DIR < documents.jsonl

require_once '/usr/share/php/JsonSchema/autoload.php';

use JsonSchema\Constraints\Factory;
use JsonSchema\SchemaStorage;
use JsonSchema\Uri\UriResolver;
use JsonSchema\Uri\UriRetriever;
use JsonSchema\Validator;

if (!extension_loaded('mbstring')) {
    // Without mbstring the library counts minLength in bytes.
    fwrite(STDERR, "validate.php: the mbstring extension is missing (apt-get install php8.2-mbstring)\n");
    exit(2);
}

$dir = realpath($argv[1] ?? (__DIR__ . '/../../schemas'));
if ($dir === false) {
    fwrite(STDERR, "validate.php: no schemas directory\n");
    exit(2);
}

// Every schema is registered under its file:// URI, so that the relative `$ref`s
// (`../common/defs.json#/$defs/cufe`) resolve against the files themselves.
$storage = new SchemaStorage(new UriRetriever(), new UriResolver());
$uri = function (string $name) use ($dir): string {
    return 'file://' . $dir . '/' . $name . '.json';
};

while (($line = fgets(STDIN)) !== false) {
    $line = rtrim($line, "\r\n");
    if ($line === '') {
        continue;
    }
    $request = json_decode($line);
    if (!is_object($request) || !isset($request->schema)) {
        fwrite(STDERR, "validate.php: bad request line\n");
        exit(2);
    }
    if (property_exists($request, 'text_base64')) {
        $request->text = base64_decode($request->text_base64, true);
    }
    if (property_exists($request, 'fields_base64')) {
        $request->fields = array_map(
            fn ($value) => base64_decode($value, true),
            (array) $request->fields_base64
        );
    }
    if (property_exists($request, 'text')) {
        $document = json_decode($request->text);
        if (json_last_error() !== JSON_ERROR_NONE) {
            echo json_encode(['decode_error' => json_last_error_msg()]), "\n";
            continue;
        }
    } else {
        $document = (object) (array) $request->fields;
    }
    // A fresh validator per document: errors do not carry over.
    $validator = new Validator(new Factory($storage));
    $validator->validate($document, (object) ['$ref' => $uri($request->schema)]);
    $errors = [];
    foreach ($validator->getErrors() as $error) {
        $errors[] = ['property' => $error['property'], 'message' => $error['message']];
    }
    // A message may quote a value that is not UTF-8: substituted, never a failed encoding.
    echo json_encode(['errors' => $errors], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
    flush();
}
