// Generated from rulesets/schema/pack-1.xsd by `make schema`; a test checks that the two agree.
// Edit the .xsd, then run `make schema`.

extension PackSchema {
    static let text = #"""
<?xml version="1.0" encoding="UTF-8"?>
<!--
  Roll for Language content packs, format 1.

  A pack declares who it is (id, version, title, authors, license), what it depends on
  (<requires>), and content in its own namespace: stats, skills, derived values, modifier types,
  checks, and sources of modifiers (items, conditions, feats, or any other kind). Names and
  descriptions are localized with xml:lang. docs/packs.md is the authoring guide.

  Reference this schema from a pack so that editors validate and complete as you type:
    <pack xmlns="urn:roll-for-language:pack:1"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="urn:roll-for-language:pack:1 schema/pack-1.xsd" …>

  What this schema cannot say (every id reference resolves, formulas parse, no cycles, an entity
  has exactly one of id, override or extends…) the loader checks after it, with line and column.
-->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns="urn:roll-for-language:pack:1"
           targetNamespace="urn:roll-for-language:pack:1"
           elementFormDefault="qualified"
           version="1.0">

  <!-- Simple types -->

  <xs:simpleType name="id">
    <xs:annotation><xs:documentation>An id local to the pack: lowercase letters, digits, '.', '_' and '-'.</xs:documentation></xs:annotation>
    <xs:restriction base="xs:string">
      <xs:pattern value="[a-z0-9][a-z0-9._\-]*"/>
      <xs:maxLength value="100"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="reference">
    <xs:annotation><xs:documentation>An id in this pack, or in another as pack:id.</xs:documentation></xs:annotation>
    <xs:restriction base="xs:string">
      <xs:pattern value="([a-z0-9][a-z0-9._\-]*:)?[a-z0-9][a-z0-9._\-]*"/>
      <xs:maxLength value="201"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="references">
    <xs:list itemType="reference"/>
  </xs:simpleType>

  <xs:simpleType name="tag">
    <xs:restriction base="xs:string">
      <xs:pattern value="[a-z0-9][a-z0-9._\-]*"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="tags">
    <xs:list itemType="tag"/>
  </xs:simpleType>

  <xs:simpleType name="language">
    <xs:restriction base="xs:language"/>
  </xs:simpleType>

  <xs:simpleType name="languages">
    <xs:list itemType="language"/>
  </xs:simpleType>

  <xs:simpleType name="version">
    <xs:annotation><xs:documentation>A semantic version: MAJOR.MINOR.PATCH, with an optional -prerelease and +build.</xs:documentation></xs:annotation>
    <xs:restriction base="xs:string">
      <xs:pattern value="(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(\-[0-9A-Za-z.\-]+)?(\+[0-9A-Za-z.\-]+)?"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="versionRange">
    <xs:annotation><xs:documentation>A version range: 1.2.3, ^1.2, ~1.2.3, &gt;=1.0.0 &lt;2.0.0, 1.x or *; ranges joined by || are alternatives.</xs:documentation></xs:annotation>
    <xs:restriction base="xs:string">
      <xs:pattern value="[0-9xX*^~&lt;&gt;=.| \-+A-Za-z]+"/>
      <xs:maxLength value="200"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="comparePoint">
    <xs:annotation><xs:documentation>A compare point of the dice language: =20, &gt;=19, &lt;2, or a bare number meaning =.</xs:documentation></xs:annotation>
    <xs:restriction base="xs:string">
      <xs:pattern value="(=|&lt;|&gt;|&lt;=|&gt;=)?\-?[0-9]+"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="stacking">
    <xs:restriction base="xs:string">
      <xs:enumeration value="sum"><xs:annotation><xs:documentation>Every modifier of the type adds.</xs:documentation></xs:annotation></xs:enumeration>
      <xs:enumeration value="highest"><xs:annotation><xs:documentation>Only the single highest modifier of the type applies.</xs:documentation></xs:annotation></xs:enumeration>
      <xs:enumeration value="highest-bonus-lowest-penalty"><xs:annotation><xs:documentation>The highest bonus and the lowest penalty of the type apply (Pathfinder 2e).</xs:documentation></xs:annotation></xs:enumeration>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="bandPreset">
    <xs:restriction base="xs:string">
      <xs:enumeration value="pass-fail"><xs:annotation><xs:documentation>failure below the difficulty, success from it.</xs:documentation></xs:annotation></xs:enumeration>
      <xs:enumeration value="four-degrees"><xs:annotation><xs:documentation>critical-failure (10 or more below), failure, success, critical-success (10 or more above).</xs:documentation></xs:annotation></xs:enumeration>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="grant">
    <xs:restriction base="xs:string">
      <xs:enumeration value="advantage"/>
      <xs:enumeration value="disadvantage"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Text -->

  <xs:complexType name="text">
    <xs:annotation><xs:documentation>Text in one language, given by xml:lang (inherited from the pack when absent).</xs:documentation></xs:annotation>
    <xs:simpleContent>
      <xs:extension base="xs:string">
        <xs:anyAttribute namespace="http://www.w3.org/XML/1998/namespace" processContents="lax"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>

  <xs:group name="texts">
    <xs:sequence>
      <xs:element name="name" type="text" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="description" type="text" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:group>

  <xs:attributeGroup name="identity">
    <xs:annotation><xs:documentation>Exactly one of: id (a new entity), override (replace a dependency's entity), extends (add to it).</xs:documentation></xs:annotation>
    <xs:attribute name="id" type="id"/>
    <xs:attribute name="override" type="reference"/>
    <xs:attribute name="extends" type="reference"/>
  </xs:attributeGroup>

  <!-- Entities -->

  <xs:complexType name="stat">
    <xs:group ref="texts"/>
    <xs:attributeGroup ref="identity"/>
    <xs:attribute name="default" type="xs:long"/>
    <xs:attribute name="min" type="xs:long"/>
    <xs:attribute name="max" type="xs:long"/>
  </xs:complexType>

  <xs:complexType name="derivedValue">
    <xs:group ref="texts"/>
    <xs:attributeGroup ref="identity"/>
    <xs:attribute name="formula" type="xs:string"/>
  </xs:complexType>

  <xs:complexType name="modifierType">
    <xs:group ref="texts"/>
    <xs:attributeGroup ref="identity"/>
    <xs:attribute name="stacking" type="stacking"/>
  </xs:complexType>

  <xs:complexType name="band">
    <xs:group ref="texts"/>
    <xs:attribute name="id" type="id" use="required"/>
    <xs:attribute name="from" type="xs:long"/>
  </xs:complexType>

  <xs:complexType name="natural">
    <xs:annotation><xs:documentation>When the check's dice alone meet `when`: shift the outcome by a number of bands, or set it, or raise it to at least / lower it to at most a band.</xs:documentation></xs:annotation>
    <xs:attribute name="when" type="comparePoint" use="required"/>
    <xs:attribute name="shift" type="xs:int"/>
    <xs:attribute name="set" type="id"/>
    <xs:attribute name="at-least" type="id"/>
    <xs:attribute name="at-most" type="id"/>
  </xs:complexType>

  <xs:complexType name="check">
    <xs:sequence>
      <xs:group ref="texts"/>
      <xs:element name="band" type="band" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="natural" type="natural" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
    <xs:attributeGroup ref="identity"/>
    <xs:attribute name="dice" type="xs:string"/>
    <xs:attribute name="adds" type="references"/>
    <xs:attribute name="tags" type="tags"/>
    <xs:attribute name="bands" type="bandPreset"/>
  </xs:complexType>

  <xs:complexType name="modifier">
    <xs:annotation><xs:documentation>Adds `value` to a stat, skill, derived value or check (or grants advantage or disadvantage on a check); of a modifier type for stacking; only in checks with every `when` tag; for `duration` rounds.</xs:documentation></xs:annotation>
    <xs:attribute name="target" type="reference" use="required"/>
    <xs:attribute name="value" type="xs:long"/>
    <xs:attribute name="grants" type="grant"/>
    <xs:attribute name="type" type="reference"/>
    <xs:attribute name="when" type="tags"/>
    <xs:attribute name="duration" type="xs:positiveInteger"/>
  </xs:complexType>

  <xs:complexType name="source">
    <xs:sequence>
      <xs:group ref="texts"/>
      <xs:element name="modifier" type="modifier" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
    <xs:attributeGroup ref="identity"/>
    <xs:attribute name="duration" type="xs:positiveInteger"/>
  </xs:complexType>

  <xs:complexType name="genericSource">
    <xs:complexContent>
      <xs:extension base="source">
        <xs:attribute name="kind" type="id" use="required"/>
      </xs:extension>
    </xs:complexContent>
  </xs:complexType>

  <!-- Sections -->

  <xs:complexType name="stats">
    <xs:sequence><xs:element name="stat" type="stat" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="skills">
    <xs:sequence><xs:element name="skill" type="stat" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="derived">
    <xs:sequence><xs:element name="value" type="derivedValue" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="modifierTypes">
    <xs:sequence><xs:element name="modifier-type" type="modifierType" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="checks">
    <xs:sequence><xs:element name="check" type="check" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="items">
    <xs:sequence><xs:element name="item" type="source" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="conditions">
    <xs:sequence><xs:element name="condition" type="source" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="feats">
    <xs:sequence><xs:element name="feat" type="source" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="sources">
    <xs:sequence><xs:element name="source" type="genericSource" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>

  <xs:complexType name="author">
    <xs:simpleContent>
      <xs:extension base="xs:string">
        <xs:attribute name="email" type="xs:string"/>
        <xs:attribute name="url" type="xs:anyURI"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>

  <xs:complexType name="requirement">
    <xs:attribute name="id" type="id" use="required"/>
    <xs:attribute name="version" type="versionRange" default="*"/>
  </xs:complexType>

  <xs:complexType name="requires">
    <xs:sequence><xs:element name="pack" type="requirement" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>

  <!-- The pack -->

  <xs:element name="pack">
    <xs:annotation><xs:documentation>A content pack: its identity, its dependencies, and its content.</xs:documentation></xs:annotation>
    <xs:complexType>
      <xs:sequence>
        <xs:element name="title" type="text" maxOccurs="unbounded"/>
        <xs:element name="description" type="text" minOccurs="0" maxOccurs="unbounded"/>
        <xs:element name="author" type="author" minOccurs="0" maxOccurs="unbounded"/>
        <xs:element name="license" type="xs:string" minOccurs="0"/>
        <xs:element name="requires" type="requires" minOccurs="0"/>
        <xs:choice minOccurs="0" maxOccurs="unbounded">
          <xs:element name="stats" type="stats"/>
          <xs:element name="skills" type="skills"/>
          <xs:element name="derived" type="derived"/>
          <xs:element name="modifier-types" type="modifierTypes"/>
          <xs:element name="checks" type="checks"/>
          <xs:element name="items" type="items"/>
          <xs:element name="conditions" type="conditions"/>
          <xs:element name="feats" type="feats"/>
          <xs:element name="sources" type="sources"/>
        </xs:choice>
      </xs:sequence>
      <xs:attribute name="id" type="id" use="required"/>
      <xs:attribute name="version" type="version" use="required"/>
      <xs:attribute name="languages" type="languages">
        <xs:annotation><xs:documentation>Languages every name and description should be given in; a missing one is a warning.</xs:documentation></xs:annotation>
      </xs:attribute>
      <xs:anyAttribute namespace="http://www.w3.org/XML/1998/namespace" processContents="lax"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""#
}
