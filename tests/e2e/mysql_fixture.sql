-- Test data for the MySQL e2e tests: every kind of object and column the
-- driver must carry through a dump and a restore.
CREATE TABLE customers (
	id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	name VARCHAR(100) NOT NULL,
	email VARCHAR(190) NULL,
	note TEXT NULL,
	balance DECIMAL(12, 4) NOT NULL DEFAULT 0,
	created DATETIME(6) NOT NULL,
	prefs JSON NULL,
	UNIQUE KEY uq_email (email),
	KEY idx_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE orders (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	customer_id INT UNSIGNED NOT NULL,
	total DECIMAL(10, 2) NOT NULL,
	placed DATE NULL,
	KEY idx_customer (customer_id),
	CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
		ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE blobs (
	id INT NOT NULL PRIMARY KEY,
	data LONGBLOB NULL,
	small VARBINARY(16) NULL
) ENGINE=InnoDB;

CREATE TABLE audit (
	id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	what VARCHAR(200) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO customers (name, email, note, balance, created, prefs) VALUES
	('Zoë Ünïcode', 'zoe@example.com', 'emoji 😀🎉🐬 and 中文 and ümlauts', 1234.5678,
	 '2024-02-29 23:59:59.123456', '{"theme": "dark", "tags": ["a", "😀"], "n": 1.5}'),
	('Bob', NULL, NULL, -0.0001, '1970-01-01 00:00:01', NULL),
	('Quote ''O\'Brien" \\ back', 'ob@example.com', 'line1\nline2\ttab', 0, '2038-01-19 03:14:08', '[]');

INSERT INTO orders (customer_id, total, placed) VALUES (1, 99.99, '2024-01-01'), (1, 0.01, NULL),
	(3, 12345678.90, '1999-12-31');

INSERT INTO blobs VALUES (1, UNHEX('00FF00FE0D0A1A5C27225C00'), UNHEX('DEADBEEF')), (2, NULL, ''),
	(3, REPEAT(UNHEX('00010203FF'), 20000), NULL);

CREATE VIEW customer_totals AS
	SELECT c.id, c.name, COALESCE(SUM(o.total), 0) AS total
	FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name;

DELIMITER //
CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW
BEGIN
	INSERT INTO audit (what) VALUES (CONCAT('order ', NEW.id, ' for ', NEW.customer_id));
END//
CREATE PROCEDURE add_order(IN cust INT, IN amount DECIMAL(10, 2))
BEGIN
	INSERT INTO orders (customer_id, total, placed) VALUES (cust, amount, CURDATE());
END//
CREATE FUNCTION greet(who VARCHAR(50)) RETURNS VARCHAR(80) DETERMINISTIC
	RETURN CONCAT('héllo ', who, ' 👋')//
DELIMITER ;

CREATE EVENT nightly_cleanup ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE
	DO DELETE FROM audit WHERE id < 0;

CALL add_order(2, 5.55);
