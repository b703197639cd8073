(value) => value
